import Foundation
import Testing

/// `herald suppress` through the real binary: every subcommand, bad input that leaves
/// the list unchanged, and a number listed while a campaign runs.
@Suite struct SuppressCommandTests {
    func herald(_ arguments: [String], _ fixture: CLIFixture) throws -> HeraldProcess.Result {
        try HeraldProcess.run(arguments + ["--journal", "journal.sqlite"], in: fixture.folder)
    }

    func list(_ fixture: CLIFixture) throws -> String {
        let result = try herald(["suppress", "export", "list.csv"], fixture)
        #expect(result.status == 0, "\(result.stderr)")
        return try String(contentsOf: fixture.folder.appendingPathComponent("list.csv"), encoding: .utf8)
    }

    @Test func everySubcommandRoundTrips() throws {
        let fixture = try CLIFixture()
        var result = try herald(["suppress", "add", "+44 7700 900001", "07700 900002", "--default-country", "gb", "--reason", "asked"], fixture)
        #expect(result.status == 0 && result.stdout.contains("2 added"), "\(result.stdout)\(result.stderr)")
        result = try herald(["suppress", "add", "+1 202 555 0101", "--scope", "+447700900123"], fixture)
        #expect(result.status == 0)
        try fixture.write("optouts.csv", "phone,reason,date\n+44 7700 900003,\"said STOP, twice\",2026-11-01\n+44 7700 900001,dup,\n")
        result = try herald(["suppress", "import", "optouts.csv"], fixture)
        #expect(result.status == 0 && result.stdout.contains("2 rows, 1 added, 1 already listed"), "\(result.stdout)\(result.stderr)")
        result = try herald(["suppress", "check", "+447700900003"], fixture)
        #expect(result.stdout.contains("+447700900003  every sender  import  2026-11-01T00:00:00Z  said STOP, twice"), "\(result.stdout)")
        result = try herald(["suppress", "check", "+447700900099"], fixture)
        #expect(result.status == 0 && result.stdout.contains("not listed"))
        result = try herald(["suppress", "list"], fixture)
        #expect(result.stdout.contains("4 numbers on the list") && result.stdout.contains("sender +447700900123"), "\(result.stdout)")
        let exported = try list(fixture)
        #expect(exported.hasPrefix("phone,scope,reason,source,added_at\n+12025550101,+447700900123,,manual,"), "\(exported)")
        #expect(exported.contains("+447700900003,,\"said STOP, twice\",import,2026-11-01T00:00:00Z"))
        result = try herald(["suppress", "remove", "+447700900002", "+447700900088"], fixture)
        #expect(result.stdout.contains("1 removed, 1 were not listed"))
        // The export imports back: the same numbers.
        let again = try CLIFixture()
        try again.write("list.csv", try list(fixture))
        result = try herald(["suppress", "import", "list.csv"], again)
        #expect(result.status == 0 && result.stdout.contains("3 rows, 3 added"), "\(result.stdout)\(result.stderr)")
    }

    @Test(arguments: [
        (["suppress", "add", "+44 7700 900001", "12345"], "number 2 of 2: phone number has no +country code and no --default-country was given; nothing was changed"),
        (["suppress", "add", "+44 7700 900001", "--default-country", "GBR"], "--default-country: \"GBR\" is not an ISO 3166"),
        (["suppress", "remove", "not a number"], "number 1 of 1:"),
        (["suppress", "import", "bad.csv"], "bad.csv:3: column \"phone\":"),
        (["suppress", "import", "dates.csv"], "dates.csv:2: column \"date\": \"last week\" is not an ISO 8601 date"),
        (["suppress", "import", "nophone.csv"], "nophone.csv:1: no column \"phone\""),
        (["suppress", "import", "missing.csv"], "missing.csv: cannot open"),
        (["suppress", "check", "+44 7700 9001"], "number 1 of 1:"),
    ] as [([String], String)])
    func badInputIsReportedAndTheListUnchanged(arguments: [String], message: String) throws {
        let fixture = try CLIFixture()
        #expect(try herald(["suppress", "add", "+447700900050"], fixture).status == 0)
        try fixture.write("bad.csv", "phone\n+44 7700 900001\n12345\n+44 7700 900002\n")
        try fixture.write("dates.csv", "phone,date\n+44 7700 900001,last week\n")
        try fixture.write("nophone.csv", "number\n+44 7700 900001\n")
        let before = try list(fixture)
        let result = try herald(arguments, fixture)
        #expect(result.status == 3 || result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("12345"), "numbers are never quoted")
        #expect(try list(fixture) == before)
    }

    @Test func aNumberListedWhileACampaignRunsIsNotSentTo() throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(400)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        // 100 a second: about a second's worth of rows is claimed at a time, so the last
        // row is still pending when the number is listed.
        let file = try fixture.campaign(provider: "{kind: simulator, outbox: outbox.jsonl}",
                                        extra: "rate: {messages_per_second: 100, max_in_flight: 4}")
        let run = try HeraldProcess(["run", file, "--journal", "journal.sqlite"], in: fixture.folder)
        // Wait until sending has started, then list the last recipient.
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: fixture.path("outbox.jsonl")) { usleep(10_000) }
        let last = rows[399].phone
        #expect(try herald(["suppress", "add", last], fixture).status == 0)
        let result = run.wait()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let outbox = try String(contentsOf: fixture.folder.appendingPathComponent("outbox.jsonl"), encoding: .utf8)
        #expect(outbox.split(separator: "\n").count == 399)
        #expect(!outbox.contains("\"\(last)\""), "the listed number was not sent to")
        #expect(result.stdout.contains("skipped (suppressed 1)"), "\(result.stdout)")
    }

    /// Issue 36, finding 3: a reason from outside (a STOP reply's words) with a newline forged
    /// a line in `suppress list` and `check`; one starting with `=` was a formula in the
    /// export. Control characters are escaped wherever it is printed or written, and formulas
    /// neutralised (a leading `'`, as OWASP recommends).
    @Test func reasonsFromOutsideForgeNoLineAndNoFormula() throws {
        let fixture = try CLIFixture()
        let reason = "STOP\n+447700900999  every sender  reply  2026-01-01T00:00:00Z  forged\u{1B}[31m\u{7}"
        var result = try herald(["suppress", "add", "+44 7700 900001", "--reason", reason], fixture)
        #expect(result.status == 0, "\(result.stderr)")
        result = try herald(["suppress", "add", "+44 7700 900002", "--reason", "=HYPERLINK(\"http://evil.example\",\"x\")"], fixture)
        #expect(result.status == 0, "\(result.stderr)")
        result = try herald(["suppress", "list"], fixture)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3 && !result.stdout.contains("\u{1B}") && !result.stdout.contains("\u{7}"), "\(result.stdout)")
        #expect(lines.first?.contains("STOP\\u000a+447700900999") == true, "\(result.stdout)")
        result = try herald(["suppress", "check", "+447700900001"], fixture)
        #expect(result.stdout.split(separator: "\n").count == 1, "\(result.stdout)")
        let exported = try list(fixture)
        #expect(exported.split(separator: "\n").count == 3 && !exported.contains("\u{1B}"), "\(exported)")
        #expect(exported.contains(#"+447700900002,,"'=HYPERLINK(""http://evil.example"",""x"")",manual,"#), "\(exported)")
    }
}
