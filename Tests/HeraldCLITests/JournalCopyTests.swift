import Foundation
import HeraldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `herald journal copy`: a campaign part-sent on SQLite moves to PostgreSQL with its
/// progress, spend and suppression list, and finishes there; one being sent is refused.
@Suite(.serialized) struct JournalCopyTests {
    struct OutboxLine: Decodable {
        let destination: String
    }

    func outbox(_ fixture: CLIFixture) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: fixture.path("outbox.jsonl")) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(OutboxLine.self, from: Data($0)).destination }
    }

    @Test func aPartSentCampaignMovesToPostgresAndFinishesThere() throws {
        guard let url = try PostgresClusterTests.database() else { return }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(400)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\n*,sms,0.01\n")
        let file = try fixture.campaign("move", provider: "{kind: simulator, outbox: outbox.jsonl}", extra: """
            prices: prices.csv
            budget: {campaign_limit: 100.00}
            """)
        let sqlite = ["HERALD_JOURNAL": "journal.sqlite"]
        let listed = rows[350].phone
        #expect(try HeraldProcess.run(["suppress", "add", listed, "--reason", "asked"], in: fixture.folder, environment: sqlite).status == 0)
        let first = try HeraldProcess.run(["run", file, "--limit", "150"], in: fixture.folder, environment: sqlite)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try outbox(fixture).count == 150)

        let copy = try HeraldProcess.run(["journal", "copy", "--from", "journal.sqlite", "--to", url], in: fixture.folder)
        #expect(copy.status == 0, "\(copy.stdout)\n\(copy.stderr)")
        #expect(copy.stdout.contains("move: copied (400 rows, stopped)"), "\(copy.stdout)")
        #expect(!copy.stdout.contains("sslmode") && !(copy.stdout + copy.stderr).contains(URLComponents(string: url)?.password ?? "\u{0}"),
                "the password is never printed")
        let again = try HeraldProcess.run(["journal", "copy", "--from", "journal.sqlite", "--to", url], in: fixture.folder)
        #expect(again.stdout.contains("already in"), "a second copy leaves it as it is")

        let postgres = ["HERALD_JOURNAL": url]
        let copied = try PostgresClusterTests.status(fixture, "move", postgres)
        #expect((copied["counts"] as? [String: Int])?["sent"] == 150)
        #expect((copied["spend"] as? [String: Any])?["spent"] as? String == "1.50")
        let resumed = try HeraldProcess.run(["resume", "move"], in: fixture.folder, environment: postgres)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let final = try PostgresClusterTests.status(fixture, "move", postgres)
        let counts = final["counts"] as? [String: Int] ?? [:]
        #expect(counts["sent"] == 399 && counts["skipped"] == 1, "\(final)")
        #expect((final["reasons"] as? [String: Int])?["suppressed"] == 1, "the copied suppression list is honoured")
        #expect((final["spend"] as? [String: Any])?["spent"] as? String == "3.99")
        let delivered = try outbox(fixture)
        #expect(delivered.count == 399 && Set(delivered).count == 399, "each recipient once, across both journals")
        #expect(!delivered.contains(listed))
    }

    /// A started campaign with several providers keeps its `providers:` list on PostgreSQL: the
    /// copy refuses a reordered list as the original does (rows record their provider by place).
    @Test func aRoutedCampaignKeepsItsProvidersListWhenCopied() throws {
        guard let url = try PostgresClusterTests.database() else { return }
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(40).map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("template.yaml", CLIFixture.template)
        func write(_ providers: [String]) throws {
            try fixture.write("routed.yaml", """
                id: routed
                template: template.yaml
                recipients: recipients.csv
                routing: weighted
                providers:
                \(providers.map { "  - {name: \($0), kind: simulator, outbox: \($0).jsonl}" }.joined(separator: "\n"))
                """)
        }
        try write(["one", "two"])
        let first = try HeraldProcess.run(["run", "routed.yaml", "--limit", "10", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(first.status == 0, "\(first.stderr)")
        let copy = try HeraldProcess.run(["journal", "copy", "--from", "journal.sqlite", "--to", url], in: fixture.folder)
        #expect(copy.status == 0, "\(copy.stdout)\n\(copy.stderr)")
        try write(["two", "one"])
        let reordered = try HeraldProcess.run(["resume", "routed", "--journal", url], in: fixture.folder)
        #expect(reordered.status == 3 && reordered.stderr.contains("providers"), "\(reordered.stdout)\n\(reordered.stderr)")
        try write(["one", "two"])
        let resumed = try HeraldProcess.run(["resume", "routed", "--journal", url], in: fixture.folder)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect((try PostgresClusterTests.status(fixture, "routed", ["HERALD_JOURNAL": url])["counts"] as? [String: Int])?["sent"] == 40)
    }

    @Test func aCampaignBeingSentIsRefused() throws {
        guard let url = try PostgresClusterTests.database() else { return }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(300)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("busy", provider: "{kind: simulator, latency_ms: \"50-80\"}", extra: "rate: {max_in_flight: 2}")
        let sqlite = ["HERALD_JOURNAL": "journal.sqlite"]
        let sender = try HeraldProcess(["run", file], in: fixture.folder, environment: sqlite)
        defer {
            sender.signal(SIGKILL)
            _ = sender.wait()
        }
        let deadline = Date().addingTimeInterval(30)
        var sending = false
        while !sending, Date() < deadline {
            usleep(100_000)
            let status = try HeraldProcess.run(["status", "busy", "--json"], in: fixture.folder, environment: sqlite)
            sending = status.stdout.contains("\"state\" : \"running\"") || status.stdout.contains("\"state\":\"running\"")
        }
        #expect(sending)
        let copy = try HeraldProcess.run(["journal", "copy", "--from", "journal.sqlite", "--to", url], in: fixture.folder)
        #expect(copy.status == 5, "\(copy.stdout)\n\(copy.stderr)")
        #expect(copy.stderr.contains("busy: being sent"))
        let there = try HeraldProcess.run(["status", "--journal", url], in: fixture.folder)
        #expect(there.stdout.contains("no campaigns"), "nothing was copied: \(there.stdout)")
    }
}

/// `--journal` through the binary: a URL never becomes a file; a server that cannot be
/// reached is exit 4, named by host and database, never with its password.
@Suite struct JournalURLTests {
    @Test func aPostgresURLIsNeverAFileAndAnUnreachableServerIsExit4() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("c")
        let url = "postgres://herald:s3cret@127.0.0.1:1/sends?sslmode=disable"
        let run = try HeraldProcess.run(["run", file, "--journal", url], in: fixture.folder)
        #expect(run.status == 4, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stderr.contains("127.0.0.1:1") && run.stderr.contains("\"sends\""), "\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains("s3cret"))
        let status = try HeraldProcess.run(["status"], in: fixture.folder, environment: ["HERALD_JOURNAL": url])
        #expect(status.status == 4 && !status.stderr.contains("s3cret"))
        let unknown = try HeraldProcess.run(["run", file, "--journal", "mysql://u@h/d"], in: fixture.folder)
        #expect(unknown.status == 4 && unknown.stderr.contains("unknown journal scheme"), "\(unknown.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.folder.path)
        #expect(!leftovers.contains { $0.hasPrefix("postgres") || $0.hasPrefix("mysql") }, "\(leftovers)")
        // `report` reads PostgreSQL too: it reaches for the server, and says which one is down.
        let report = try HeraldProcess.run(["report", "c", "--json", "--journal", url], in: fixture.folder)
        #expect(report.status == 4 && report.stderr.contains("127.0.0.1:1") && !report.stderr.contains("s3cret"), "\(report.stderr)")
        // So do receipts.
        let receipts = try HeraldProcess.run(["receipts", "url", "--journal", url], in: fixture.folder)
        #expect(receipts.status == 4 && receipts.stderr.contains("127.0.0.1:1") && !receipts.stderr.contains("s3cret"),
                "\(receipts.stderr)")
    }
}
