import Foundation
import Testing

/// `herald report` through the binary on a campaign with receipts: the CSV has a line
/// per recipient with masked numbers, the JSON the aggregates, and the HTML page is
/// opened in headless Chromium (installed by `.ci/run`), which must find every chart,
/// figure and table in the rendered DOM.
@Suite(.serialized) struct ReportTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM after the page's scripts ran (up to 5 s of virtual time), as Chromium serialises it.
    static func dumpDOM(_ chromium: String, _ url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return dom
    }

    func sentCampaign(_ fixture: CLIFixture) throws {
        let rows = CLIFixture.rows(300)
        var lines = rows.map(\.line)
        lines[10] = "not-a-number,Bad,C001"
        try fixture.write("recipients.csv", "phone,name,code\n" + lines.joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "rep", provider: "{kind: simulator, permanent_failure_rate: 0.05, receipts: {delivered: 0.9, undelivered: 0.05, read: 0.3, latency_ms: \"5-50\"}}")
        let run = try HeraldProcess.run(["run", file, "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }

    @Test func csvAndJSONHoldEveryRecipientAndTheAggregates() throws {
        let fixture = try CLIFixture()
        try sentCampaign(fixture)
        let result = try HeraldProcess.run(["report", "rep", "--csv", "r.csv", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        let csv = try String(contentsOfFile: fixture.path("r.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 301 && csv[0].hasPrefix("line,phone,country,state,reason"))
        #expect(csv[1].hasPrefix("2,+1******0100,US,"), "\(csv[1])")
        #expect(csv[11].contains(",skipped,bad_number,"), "\(csv[11])")
        #expect(!csv.joined().contains("2015550100"), "numbers are masked")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let funnel = json?["funnel"] as? [[String: Any]]
        #expect(funnel?.map { $0["label"] as? String } == ["rows", "valid", "sent", "delivered", "read"])
        #expect(funnel?.first?["count"] as? Int == 300 && funnel?[1]["count"] as? Int == 299)
        let reasons = json?["reasons"] as? [[String: Any]] ?? []
        #expect(reasons.contains { $0["reason"] as? String == "bad_number" && $0["examples"] as? [Int] == [12] })
        let unmasked = try HeraldProcess.run(["report", "rep", "--csv", "full.csv", "--unmasked", "--journal", "journal.sqlite"],
                                             in: fixture.folder)
        #expect(unmasked.status == 0)
        #expect(try String(contentsOfFile: fixture.path("full.csv"), encoding: .utf8).contains("2,+12015550100,US,"))
        let none = try HeraldProcess.run(["report", "rep", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(none.status == 64 && none.stderr.contains("--html"), "\(none.stderr)")
        let unknown = try HeraldProcess.run(["report", "nope", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(unknown.status == 3 && unknown.stderr.contains("nope"))
    }

    @Test func theHTMLReportRendersInHeadlessChromium() throws {
        let fixture = try CLIFixture()
        try sentCampaign(fixture)
        let result = try HeraldProcess.run(["report", "rep", "--html", "report.html", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOfFile: fixture.path("report.html"), encoding: .utf8)
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained, nothing fetched")
        #expect(!html.contains("2015550100"), "no phone numbers")
        guard let chromium = Self.chromium else {
            Issue.record("headless Chromium is needed for this test (.ci/run installs Debian's chromium)")
            return
        }
        let dom = try Self.dumpDOM(chromium, "file://" + fixture.path("report.html"))
        for chart in ["funnel", "timeline", "latency", "rates"] {
            #expect(dom.contains("id=\"\(chart)-title\""), "chart \(chart) is in the rendered page")
        }
        #expect(dom.components(separatedBy: "class=\"tile\"").count - 1 == 8, "eight figure tiles")
        #expect(dom.contains("id=\"spend\"") && dom.contains("id=\"countries\"") && dom.contains("id=\"reasons\""))
        #expect(dom.contains("bad_number") && dom.contains(">rep<"), "reasons and the campaign name")
    }
}
