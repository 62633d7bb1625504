import Foundation
import HeraldEngine

/// `import-content N`: importing N rows with a three-clause `where:`, a template in two languages
/// with conditional text, and smart encoding, beside the same CSV through a plain template; then
/// `estimate` of that campaign beside `sqlite3 .import` of the same file. Each pair alternates,
/// three rounds; medians.
func contentBench(rows: Int) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-content-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("recipients.csv")
    FileManager.default.createFile(atPath: csv.path, contents: nil)
    let handle = try FileHandle(forWritingTo: csv)
    var chunk = "phone,name,code,points,vip,lang\n"
    for index in 0..<rows {
        let area = 201 + index / 10_000 % 798
        let lang = ["en", "es", "es-MX", ""][index % 4]
        chunk += "+1 \(area) 555 \(String(format: "%04d", index % 10_000)),Person \(index),C\(index % 99_991),\(index % 500),\(index % 3 == 0 ? "yes" : "no"),\(lang)\n"
        if chunk.utf8.count > 1 << 20 {
            handle.write(Data(chunk.utf8))
            chunk = ""
        }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
    let variables = """
        variables:
          name: {type: string, required: true, max_length: 40}
          code: {type: string, required: true}
          points: {type: integer, default: 0}
          vip: {type: boolean, default: "no"}
        """
    try """
        id: plain
        channel: sms
        \(variables)
        body: "Hi <name>, your code is <code>. You have <points> points."
        """.write(to: folder.appendingPathComponent("plain.yaml"), atomically: true, encoding: .utf8)
    try """
        id: content
        channel: sms
        \(variables)
        language:
          column: lang
          default: en
          variants:
            en: {body: "Hi <name>, your code is <code>. You’ve <points> points.<vip? Gold member.>"}
            es: {body: "Hola <name>, su código es <code>. Tiene <points> puntos.<vip? Socio oro.>"}
        """.write(to: folder.appendingPathComponent("content.yaml"), atomically: true, encoding: .utf8)
    for (name, extra) in [("plain", ""), ("content", "where: 'country in [US, CA] and points >= 100 and name != \"Person 7\"'\nsmart_encoding: true\n")] {
        try """
            id: \(name)
            template: \(name).yaml
            recipients: recipients.csv
            provider: {kind: simulator}
            rate: {max_in_flight: 256}
            \(extra)
            """.write(to: folder.appendingPathComponent("\(name)-campaign.yaml"), atomically: true, encoding: .utf8)
    }
    func importSeconds(_ name: String, round: Int) async throws -> Double {
        let plan = try CampaignPlan.load(campaignPath: folder.appendingPathComponent("\(name)-campaign.yaml").path)
        var options = RunOptions()
        options.limit = 1
        let journal = folder.appendingPathComponent("\(name)-\(round).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let summary = try await CampaignRunner(plan: plan, journalPath: journal, options: options, stop: StopSignal()).run()
        return summary.importSeconds
    }
    var plain: [Double] = [], content: [Double] = [], estimates: [Double] = [], sqlite: [Double] = []
    var estimatesOneThread: [Double] = []
    var kept = 0
    for round in 0..<3 {
        plain.append(try await importSeconds("plain", round: round))
        content.append(try await importSeconds("content", round: round))
        let plan = try CampaignPlan.load(campaignPath: folder.appendingPathComponent("content-campaign.yaml").path)
        let oneThread = ContinuousClock.now
        _ = try plan.estimate(journalPath: nil, workers: 1)
        estimatesOneThread.append(seconds(oneThread.duration(to: .now)))
        let start = ContinuousClock.now
        let estimate = try plan.estimate(journalPath: nil)
        estimates.append(seconds(start.duration(to: .now)))
        kept = estimate.messages
        precondition(estimate.filtered > 0 && estimate.byLanguage.count == 2 && (estimate.smartEncoding?.rowsChanged ?? 0) > 0)
        let database = folder.appendingPathComponent("import-\(round).db").path
        let sqliteStart = ContinuousClock.now
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database, ".mode csv", ".import \(csv.path) recipients"]
        try process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "sqlite3 .import failed")
        sqlite.append(seconds(sqliteStart.duration(to: .now)))
        try? FileManager.default.removeItem(atPath: database)
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    emit(["figure": "import_rows_per_s_plain", "rows": rows, "value": Int(Double(rows) / median(plain)), "seconds": plain])
    emit(["figure": "import_rows_per_s_where_languages_smart", "rows": rows, "value": Int(Double(rows) / median(content)),
          "seconds": content, "kept": kept, "ratio_to_plain": median(plain) / median(content), "target": ">= 0.85"])
    emit(["figure": "estimate_rows_per_s_where_languages_smart", "rows": rows, "value": Int(Double(rows) / median(estimates)),
          "seconds": estimates])
    emit(["figure": "estimate_rows_per_s_where_languages_smart_one_thread", "rows": rows,
          "value": Int(Double(rows) / median(estimatesOneThread)), "seconds": estimatesOneThread])
    emit(["figure": "sqlite3_import_rows_per_s", "rows": rows, "value": Int(Double(rows) / median(sqlite)), "seconds": sqlite,
          "estimate_speedup": median(sqlite) / median(estimates), "target": ">= 2"])
}
