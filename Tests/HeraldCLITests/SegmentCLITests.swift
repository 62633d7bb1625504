import Foundation
import HeraldTestSupport
import Testing

/// `where:` through the binary: validate, estimate and run agree on the rows left out, the
/// outbox holds exactly the rows in the segment, a mistake names the file, line and column, and
/// a changed filter on a started campaign is refused like a changed recipient list.
@Suite struct SegmentCLITests {
    static let template = """
        id: t
        channel: sms
        variables:
          name: {type: string, required: true}
          visits: {type: integer, default: 0}
          vip: {type: boolean, default: false}
          joined: {type: string}
        body: "Hi <name>, <visits> visits"
        """

    /// 40 rows: US for even lines, GB for odd; visits 0...9; every third is a VIP; joined in 2025 or 2026.
    static func rows() -> [(phone: String, name: String, visits: Int, vip: Bool, joined: String, us: Bool)] {
        (0..<40).map { index in
            let us = index % 2 == 0
            let phone = us ? "+1202555\(String(format: "%04d", 100 + index))" : "+4477009\(String(format: "%05d", index))"
            return (phone, "P\(index)", index % 10, index % 3 == 0, index % 4 == 0 ? "2025-06-0\(1 + index % 9)" : "2026-02-1\(index % 10)", us)
        }
    }

    static func fixture(where filter: String) throws -> CLIFixture {
        let fixture = try CLIFixture()
        try fixture.write("t.yaml", Self.template)
        try fixture.write("recipients.csv", "phone,name,visits,vip,joined\n"
            + rows().map { "\($0.phone),\($0.name),\($0.visits),\($0.vip ? "yes" : "no"),\($0.joined)" }.joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\nUS,sms,0.01\nGB,sms,0.04\n")
        try fixture.write("seg.yaml", """
            id: seg
            template: t.yaml
            recipients: recipients.csv
            prices: prices.csv
            provider: {kind: simulator, outbox: outbox.jsonl}
            where: \(filter)
            """)
        return fixture
    }

    @Test func theOutboxHoldsExactlyTheSegment() throws {
        let filter = #"country == US and (visits >= 5 or vip) and joined >= 2026-01-01"#
        let fixture = try Self.fixture(where: "'\(filter)'")
        let expected = Self.rows().filter { $0.us && ($0.visits >= 5 || $0.vip) && $0.joined >= "2026-01-01" }
        let validate = try HeraldProcess.run(["validate", "seg.yaml"], in: fixture.folder)
        #expect(validate.status == 0 && validate.stdout.contains("40 rows, \(expected.count) to send, \(40 - expected.count) left out by where:"),
                "\(validate.stdout)\(validate.stderr)")
        let estimate = try HeraldProcess.run(["estimate", "seg.yaml", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any]
        #expect(object?["messages"] as? Int == expected.count && object?["filtered"] as? Int == 40 - expected.count, "\(estimate.stdout)")
        let clauses = object?["by_clause"] as? [[String: Any]] ?? []
        #expect(clauses.map { $0["clause"] as? String } == ["country == US", "(visits >= 5 or vip)", "joined >= 2026-01-01"])
        let rows = Self.rows()
        let notUS: Int = rows.filter { !$0.us }.count
        let fewVisits: Int = rows.filter { !($0.visits >= 5 || $0.vip) }.count
        let early: Int = rows.filter { $0.joined < "2026-01-01" }.count
        let removes: [Int?] = clauses.map { $0["removes"] as? Int }
        #expect(removes == [notUS, fewVisits, early], "\(clauses)")
        // The cost counts the segment only: US rows at $0.01.
        let total = (object?["total"] as? String).flatMap(Double.init) ?? -1
        #expect(abs(total - Double(expected.count) / 100) < 1e-9, "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "seg.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stderr)")
        let outbox = try String(contentsOfFile: fixture.path("outbox.jsonl"), encoding: .utf8).split(separator: "\n")
        let sentTo = outbox.compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["destination"] as? String
        }
        #expect(sentTo.sorted() == expected.map(\.phone).sorted())
        let status = try HeraldProcess.run(["status", "seg", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let counted = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect((counted?["reasons"] as? [String: Int])?["filtered"] == 40 - expected.count, "\(status.stdout)")
        // A changed filter is a changed list of recipients: refused once sending started.
        try fixture.write("seg.yaml", try String(contentsOfFile: fixture.path("seg.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "visits >= 5", with: "visits >= 4"))
        let resumed = try HeraldProcess.run(["run", "seg.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(resumed.status == 3, "\(resumed.stdout)\(resumed.stderr)")
    }

    @Test(arguments: [
        ("visits >= five", "seg.yaml:6: where: column 11: visits is an integer, not comparable with \"five\""),
        ("age > 3", "seg.yaml:6: where: column 1: \"age\" is not a variable of the template"),
        ("'vip and (visits > 2'", "seg.yaml:6: where: column 20: expected ), found the end"),
    ])
    func aMistakeNamesTheFileLineAndColumn(_ filter: String, _ expected: String) throws {
        let fixture = try Self.fixture(where: filter)
        for command in ["validate", "estimate", "run"] {
            let result = try HeraldProcess.run([command, "seg.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
            #expect(result.status == 3 && result.stderr.contains(expected), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.path("outbox.jsonl")))
    }
}
