import Foundation
import HeraldEngine

/// One campaign sent twice in one run, on one journal: through one priced simulator (the
/// baseline), then through two with `routing: least_cost` and a price book each (the US
/// cheaper through the first, Canada through the second; the generated +1 numbers hold both).
/// `url`: a PostgreSQL journal; nil: a fresh SQLite file each. `only`: "one" or "two" runs that
/// half alone (on PostgreSQL, each half in a fresh database: a journal's earlier campaigns move
/// its figures by more than the difference measured).
func routingBench(rows: Int, url: String?, only: String? = nil) async throws {
    let store = url == nil ? "" : "pg_"
    for routed in [false, true] where only == nil || only == (routed ? "two" : "one") {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-route-\(getpid())-\(routed)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let campaign = try makeCampaign(in: folder, rows: rows)
        try "country,channel,price\nUS,sms,0.0060\nCA,sms,0.0070\n*,sms,0.05\n"
            .write(to: folder.appendingPathComponent("second.csv"), atomically: true, encoding: .utf8)
        let id = "bench-\(getpid())-\(Int(Date().timeIntervalSince1970))-\(routed ? "routed" : "one")"
        let providers = routed
            ? "routing: least_cost\nproviders:\n  - {name: first, kind: simulator, prices: prices.csv}\n  - {name: second, kind: simulator, prices: second.csv}\n"
            : "provider: {kind: simulator}\nprices: prices.csv\n"
        let text = try String(contentsOfFile: campaign, encoding: .utf8)
            .replacingOccurrences(of: "id: bench\n", with: "id: \(id)\n")
            .replacingOccurrences(of: "provider: {kind: simulator}\n", with: providers)
        try text.write(toFile: campaign, atomically: true, encoding: .utf8)
        let plan = try CampaignPlan.load(campaignPath: campaign)
        let journal = url ?? folder.appendingPathComponent("journal.sqlite").path
        let summary = try await CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal()).run()
        let repeats = summary.counts.byReason[.duplicate, default: 0]
        precondition(summary.counts[.sent] == rows - repeats, "expected every row sent, got \(summary.counts[.sent])")
        if routed {
            let status = try CampaignStatus.load(journalPath: journal, id: id)[0]
            let split = status.providers?.map(\.sent) ?? []
            precondition(split.count == 2 && split.allSatisfy { $0 > 0 }, "both providers must send: \(split)")
            emit(["figure": store + "routed_split", "rows": rows, "first": split[0], "second": split[1]])
        }
        let label = store + (routed ? "end_to_end_msgs_per_s_two_providers_least_cost" : "end_to_end_msgs_per_s_one_provider_priced")
        emit(["figure": label, "rows": rows, "value": Int(Double(summary.counts[.sent]) / summary.elapsedSeconds),
              "seconds": summary.elapsedSeconds, "import_seconds": summary.importSeconds,
              "target": routed ? "within 10% of the one-provider figure above" : "baseline"])
    }
}
