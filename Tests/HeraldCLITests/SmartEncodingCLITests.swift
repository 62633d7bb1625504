import Foundation
import HeraldTestSupport
import Testing

/// `smart_encoding:` through the binary: without it, validate and estimate name the characters
/// that make rows UCS-2, with example lines; with it, estimate counts the parts and money saved
/// and the outbox holds the GSM-7 text, charged at its own part count.
@Suite struct SmartEncodingCLITests {
    static func fixture(smart: Bool, template: String? = nil) throws -> CLIFixture {
        let fixture = try CLIFixture()
        try fixture.write("t.yaml", template ?? """
            id: t
            channel: sms
            variables: {name: {type: string, required: true}, note: {type: string, default: ""}}
            body: "Hi <name>, <note>"
            """)
        // Line 2: a curly quote makes it UCS-2 (2 parts of 67 for 100 characters, 1 GSM-7 part once replaced).
        let long = String(repeating: "a", count: 80)
        try fixture.write("recipients.csv", """
            phone,name,note
            +12025550101,Ada,it’s ready \(long)
            +12025550102,Grace,plain text
            +12025550103,Linus,“quoted” — and an emoji 🙂

            """)
        try fixture.write("prices.csv", "country,channel,price\nUS,sms,0.01\n")
        try fixture.write("c.yaml", """
            id: c
            template: t.yaml
            recipients: recipients.csv
            prices: prices.csv
            provider: {kind: simulator, outbox: outbox.jsonl}
            smart_encoding: \(smart)
            """)
        return fixture
    }

    @Test func withoutItTheCharactersThatCostAreNamed() throws {
        let fixture = try Self.fixture(smart: false)
        let validate = try HeraldProcess.run(["validate", "c.yaml"], in: fixture.folder)
        #expect(validate.stdout.contains("’ U+2019 right single quotation mark: 1 row, e.g. line 2; smart_encoding sends \"'\""), "\(validate.stdout)")
        let estimate = try HeraldProcess.run(["estimate", "c.yaml", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any]
        let characters = object?["ucs2_characters"] as? [[String: Any]] ?? []
        #expect(Set(characters.compactMap { $0["code_point"] as? String }) == ["U+2019", "U+201C", "U+201D", "U+2014", "U+1F642"], "\(characters)")
        let emoji = characters.first { $0["code_point"] as? String == "U+1F642" }
        #expect(emoji?["example_lines"] as? [Int] == [4] && emoji?["smart_replacement"] == nil)
        #expect(object?["smart_encoding"] == nil)
    }

    @Test func withItTheLookAlikesAreSentAndTheSavingCounted() throws {
        let fixture = try Self.fixture(smart: true)
        let estimate = try HeraldProcess.run(["estimate", "c.yaml", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any]
        let smart = object?["smart_encoding"] as? [String: Any]
        // Line 2 goes from 2 UCS-2 parts to 1 GSM-7 part; line 4 keeps its emoji (UCS-2), one part either way.
        #expect(smart?["rows_changed"] as? Int == 2 && smart?["parts_saved"] as? Int == 1 && smart?["cost_saved"] as? String == "0.01",
                "\(estimate.stdout)")
        #expect((object?["ucs2_characters"] as? [[String: Any]])?.compactMap { $0["code_point"] as? String } == ["U+1F642"])
        let run = try HeraldProcess.run(["run", "c.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOfFile: fixture.path("outbox.jsonl"), encoding: .utf8).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let byPhone = Dictionary(uniqueKeysWithValues: lines.compactMap { line in (line["destination"] as? String).map { ($0, line) } })
        #expect(byPhone["+12025550101"]?["body"] as? String == "Hi Ada, it's ready " + String(repeating: "a", count: 80))
        #expect(byPhone["+12025550101"]?["encoding"] as? String == "GSM-7" && byPhone["+12025550101"]?["parts"] as? Int == 1)
        #expect(byPhone["+12025550103"]?["body"] as? String == "Hi Linus, \"quoted\" - and an emoji 🙂")
        // Charged at the parts sent: three rows of one part.
        #expect(run.stdout.contains("spend so far: $0.03"), "\(run.stdout)")
    }

    @Test func itAppliesToSMSOnly() throws {
        let fixture = try Self.fixture(smart: true, template: """
            id: t
            channel: rcs
            variables: {name: {type: string, required: true}, note: {type: string, default: ""}}
            rcs: {text: "Hi <name>, <note>"}
            """)
        let result = try HeraldProcess.run(["validate", "c.yaml"], in: fixture.folder)
        #expect(result.status == 3 && result.stderr.contains("c.yaml:6: smart_encoding: applies to SMS"), "\(result.stderr)")
    }
}
