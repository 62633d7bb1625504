import Foundation
import Testing

/// Every kind of bad input gets a clear message naming the file (and line), a
/// non-zero documented exit code, and leaves an existing journal as it was.
@Suite struct BadInputTests {
    /// A folder whose journal already holds a finished campaign "done".
    func fixtureWithJournal() throws -> CLIFixture {
        let fixture = try CLIFixture()
        try fixture.write("good.csv", "phone,name,code\n" + CLIFixture.rows(20).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("done", csv: "good.csv")
        let result = try HeraldProcess.run(["run", file], in: fixture.folder, environment: ["HERALD_JOURNAL": "journal.sqlite"])
        #expect(result.status == 0, "\(result.stderr)")
        return fixture
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// Writes the bad files; returns the arguments after `herald`.
        let setUp: @Sendable (CLIFixture) throws -> [String]
        let status: Int32
        /// Expected in stderr (or stdout for validate's row list).
        let message: String
        /// Added to the environment of the run.
        var environment: [String: String] = [:]
        var testDescription: String { name }
    }

    static let header = "phone,name,code\n"

    static let cases: [Case] = [
        Case(name: "broken YAML", setUp: { f in
            try f.write("bad.yaml", "id: bad\ntemplate: [unclosed\nrecipients: r.csv\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "bad.yaml:"),
        Case(name: "unknown campaign key", setUp: { f in
            _ = try f.campaign("bad", extra: "rate: {max_in_fligth: 4}")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "bad.yaml:5: unknown key \"max_in_fligth\" in rate"),
        Case(name: "unknown template", setUp: { f in
            try f.write("bad.yaml", "id: bad\ntemplate: nowhere.yaml\nrecipients: r.csv\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "nowhere.yaml: cannot read the template file"),
        Case(name: "unknown placeholder", setUp: { f in
            _ = try f.campaign("bad")
            try f.write("template.yaml", "id: t\nvariables:\n  name: {type: string}\nbody: \"Hi <nmae>\"\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "template.yaml:4: body: placeholder <nmae> is not a declared variable"),
        Case(name: "missing CSV", setUp: { f in
            _ = try f.campaign("bad", csv: "absent.csv")
            return ["run", "bad.yaml"]
        }, status: 3, message: "absent.csv: cannot open"),
        Case(name: "empty CSV", setUp: { f in
            _ = try f.campaign("bad", csv: "empty.csv")
            try f.write("empty.csv", "")
            return ["run", "bad.yaml"]
        }, status: 3, message: "empty.csv: the file is empty"),
        Case(name: "header only", setUp: { f in
            _ = try f.campaign("bad", csv: "header.csv")
            try f.write("header.csv", header)
            return ["run", "bad.yaml"]
        }, status: 3, message: "header.csv: no recipient rows after the header"),
        Case(name: "required column missing", setUp: { f in
            _ = try f.campaign("bad", csv: "nocode.csv")
            try f.write("nocode.csv", "phone,name\n+44 7700 900001,Ada\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "nocode.csv:1: required template variable \"code\" is not a column"),
        Case(name: "unclosed quote", setUp: { f in
            _ = try f.campaign("bad", csv: "quote.csv")
            try f.write("quote.csv", header + "+44 7700 900001,Ada,AB12\n+44 7700 900002,\"Bob,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "quote.csv:3: a quoted field opened on this line is never closed"),
        Case(name: "ragged rows (validate)", setUp: { f in
            _ = try f.campaign("bad", csv: "ragged.csv")
            try f.write("ragged.csv", header + "+44 7700 900001,Ada,AB12\n+44 7700 900002,Bob\n")
            return ["validate", "bad.yaml"]
        }, status: 3, message: "ragged.csv:3: expected 3 fields as in the header, found 2"),
        Case(name: "ragged rows (run --strict)", setUp: { f in
            _ = try f.campaign("bad", csv: "ragged.csv")
            try f.write("ragged.csv", header + "+44 7700 900001,Ada,AB12\n+44 7700 900002,Bob\n")
            return ["run", "--strict", "bad.yaml"]
        }, status: 3, message: "--strict: 1 row has problems; nothing was sent"),
        Case(name: "invalid UTF-8 (validate)", setUp: { f in
            _ = try f.campaign("bad", csv: "latin1.csv")
            try f.write("latin1.csv", bytes: Array((header + "+44 7700 900001,Jos").utf8) + [0xE9] + Array(",AB12\n".utf8))
            return ["validate", "bad.yaml"]
        }, status: 3, message: "latin1.csv:2: column \"name\": not valid UTF-8 text"),
        Case(name: "bad phone number (run --strict)", setUp: { f in
            _ = try f.campaign("bad", csv: "phones.csv")
            try f.write("phones.csv", header + "+44 7700 900001,Ada,AB12\n12345,Bob,AB12\n")
            return ["run", "--strict", "bad.yaml"]
        }, status: 3, message: "phones.csv:3: column \"phone\": phone number has no +country code"),
        Case(name: "RCS template with two kinds of content", setUp: { f in
            _ = try f.campaign("bad")
            try f.write("template.yaml", "id: t\nchannel: rcs\nvariables:\n  name: {type: string}\nrcs:\n  text: \"Hi <name>\"\n  card: {title: \"Hi\"}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "template.yaml:6: rcs: needs exactly one of text, media, card, carousel, template_id (found: text, card)"),
        Case(name: "RCS suggestion the provider lacks", setUp: { f in
            _ = try f.campaign("bad", provider: "{kind: agile, agent_id: 3}")
            try f.write("template.yaml", "id: t\nchannel: rcs\nrcs:\n  text: Hi\n  suggestions:\n    - {type: request_location, text: Where}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "template.yaml: rcs.suggestions[0].type: agile has no request_location suggestion for provider agile"),
        Case(name: "RCS suggestion missing a key", setUp: { f in
            _ = try f.campaign("bad")
            try f.write("template.yaml", "id: t\nchannel: rcs\nrcs:\n  text: Hi\n  suggestions:\n    - {type: dial, text: Call}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "template.yaml:6: rcs.suggestions[0]: a dial suggestion needs \"phone\""),
        Case(name: "provider credentials missing", setUp: { f in
            _ = try f.campaign("bad", provider: "{kind: v5, endpoint: \"http://127.0.0.1:9\", source: CONVEY}")
            try f.write("template.yaml", "id: t\nchannel: rcs\nrcs: {text: Hi}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "bad.yaml"]
        }, status: 3, message: "bad.yaml: provider: no /v5/messages credentials: set V5_USERNAME and V5_PASSWORD"),
        Case(name: "dry run on a provider that would deliver", setUp: { f in
            _ = try f.campaign("bad", provider: "{kind: v5, endpoint: \"http://127.0.0.1:9\", source: CONVEY}")
            try f.write("template.yaml", "id: t\nchannel: rcs\nrcs: {text: Hi}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["run", "--dry-run", "bad.yaml"]
        }, status: 3, message: "bad.yaml: provider: v5 has no validate-only mode, so --dry-run would deliver; rehearse with --simulate",
             environment: ["V5_USERNAME": "u", "V5_PASSWORD": "p"]),
        Case(name: "RCS content a row breaks (validate)", setUp: { f in
            _ = try f.campaign("bad")
            try f.write("template.yaml", "id: t\nchannel: rcs\nvariables:\n  name: {type: string}\nrcs:\n  text: Hi\n  suggestions:\n    - {type: reply, text: \"Hi <name>\"}\n")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n+44 7700 900002,Bartholomew Montgomery-Smith,AB12\n")
            return ["validate", "bad.yaml"]
        }, status: 3, message: "recipients.csv:3: rcs.suggestions[0].text: 31 characters; simulator allows at most 25"),
        Case(name: "unknown campaign id", setUp: { _ in ["resume", "no-such-campaign"] },
             status: 3, message: "no campaign \"no-such-campaign\""),
        Case(name: "a 5,000-character id is quoted short", setUp: { _ in ["status", String(repeating: "x", count: 5000)] },
             status: 3, message: "no campaign \"" + String(repeating: "x", count: 80) + "…\" in this journal"),
        Case(name: "AWS region with a line break", setUp: { f in
            _ = try f.campaign("bad", provider: "{kind: aws, region: \"us-east-1\\nx\", origination_identity: \"+12025550100\"}")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["validate", "bad.yaml"]
        }, status: 3, message: "bad.yaml:4: provider.region: \"us-east-1\\nx\" holds a control character"),
        Case(name: "AWS origination identity with a space", setUp: { f in
            _ = try f.campaign("bad", provider: "{kind: aws, region: eu-west-1, origination_identity: \"+44 7700 900123\"}")
            try f.write("recipients.csv", header + "+44 7700 900001,Ada,AB12\n")
            return ["validate", "bad.yaml"]
        }, status: 3, message: "provider.origination_identity: \"+44 7700 900123\" may hold only A-Za-z0-9_:/+-"),
        Case(name: "a NUL byte in a field (validate)", setUp: { f in
            _ = try f.campaign("bad", csv: "nul.csv")
            try f.write("nul.csv", bytes: Array((header + "+44 7700 900001,Ada").utf8) + [0] + Array("x,AB12\n".utf8))
            return ["validate", "bad.yaml"]
        }, status: 3, message: "nul.csv:2: column \"name\": holds the control character \\0"),
        Case(name: "a binary header is quoted short", setUp: { f in
            _ = try f.campaign("bad", csv: "binary.csv")
            try f.write("binary.csv", bytes: Array("name,".utf8) + (0..<300).map { UInt8(65 + $0 % 26) } + [1, 2] + Array(",code\n".utf8))
            return ["validate", "bad.yaml"]
        }, status: 3, message: "no column \"phone\" for phone numbers (columns: \"name\", \"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ]

    @Test(arguments: cases)
    func badInputIsReportedAndJournalKept(_ testCase: Case) throws {
        let fixture = try fixtureWithJournal()
        let before = try fixture.snapshot()
        let arguments = try testCase.setUp(fixture)
        let result = try HeraldProcess.run(arguments, in: fixture.folder,
                                           environment: testCase.environment.merging(["HERALD_JOURNAL": "journal.sqlite"]) { $1 })
        #expect(result.status == testCase.status, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect((result.stderr + result.stdout).contains(testCase.message), "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try fixture.snapshot() == before)
    }

    @Test func journalThatIsNotADatabaseIsLeftByteForByte() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", Self.header + "+44 7700 900001,Ada,AB12\n")
        let file = try fixture.campaign()
        let garbage = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try fixture.write("notes.db", bytes: garbage)
        for arguments in [["run", file, "--journal", "notes.db"], ["status", "--journal", "notes.db"]] {
            let result = try HeraldProcess.run(arguments, in: fixture.folder)
            #expect(result.status == 4)
            #expect(result.stderr.contains("notes.db: not a Herald journal"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.path("notes.db"))) == Data(garbage))
    }

    @Test func secondSenderOfTheSameCampaignIsRefused() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", Self.header + CLIFixture.rows(300).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(provider: "{kind: simulator, latency_ms: 20}", extra: "rate: {max_in_flight: 1}")
        let first = try HeraldProcess(["run", file], in: fixture.folder)
        // Wait until the first process holds the lease (the campaign is in the journal).
        var running = false
        for _ in 0..<400 where !running {
            usleep(10_000)
            let status = try HeraldProcess.run(["status", "--json", "c"], in: fixture.folder)
            running = status.status == 0 && status.stdout.contains("\"state\" : \"running\"")
        }
        #expect(running)
        let second = try HeraldProcess.run(["run", file], in: fixture.folder)
        #expect(second.status == 5)
        #expect(second.stderr.contains("is being sent by another herald (pid \(first.pid)"), "\(second.stderr)")
        first.signal(SIGTERM)
        #expect(first.wait().status == 143)
    }
}
