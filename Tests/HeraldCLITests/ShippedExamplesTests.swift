import Foundation
import Testing

/// The campaigns shipped in `campaigns/` run as the README says, with the real
/// binary, on a copy of the example folders.
@Suite struct ShippedExamplesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A temporary copy of campaigns/, templates/, recipients/ and prices/.
    func copy() throws -> CLIFixture {
        let fixture = try CLIFixture()
        for folder in ["campaigns", "templates", "recipients", "prices"] {
            try FileManager.default.copyItem(at: Self.repository.appendingPathComponent(folder),
                                             to: fixture.folder.appendingPathComponent(folder))
        }
        return fixture
    }

    @Test func theRCSExampleSendsRichCardsAndSkipsTheRowWithABadDate() throws {
        let fixture = try copy()
        let validate = try HeraldProcess.run(["validate", "campaigns/appointment-rcs.yaml"], in: fixture.folder)
        #expect(validate.status == 3)
        #expect(validate.stdout.contains("appointments.csv:6: rcs.card.suggestions[2].end: \"next week\" is not an ISO 8601 date-time"),
                "\(validate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/appointment-rcs.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("4 sent, 0 failed, 1 skipped (invalid_content 1)"), "\(run.stdout)")
        let outbox = try #require(FileManager.default.contents(atPath: fixture.path(".herald/appointment-rcs-outbox.jsonl")))
        let lines = try outbox.split(separator: UInt8(ascii: "\n")).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
        #expect(lines.count == 4 && lines.allSatisfy { $0["channel"] as? String == "rcs" })
        let first = try #require(lines.first { $0["destination"] as? String == "+12025550111" }?["content"] as? [String: Any])
        let card = try #require(first["card"] as? [String: Any])
        #expect(card["title"] as? String == "Your appointment, Ada")
        #expect((card["suggestions"] as? [[String: Any]])?.first?["postback"] as? String == "confirm-RV1234")
        #expect(first["fallback_sms"] as? String == "Hi Ada, reminder: Tue 1 Dec 09:30 at Riverside Clinic (booking RV1234). Reply C to confirm.")
        let estimate = try HeraldProcess.run(["estimate", "campaigns/appointment-rcs.yaml", "--journal", "journal.sqlite"],
                                             in: fixture.folder)
        #expect(estimate.stdout.contains("already sent"), "\(estimate.stdout)")
    }

    @Test func theSMSExampleRuns() throws {
        let fixture = try copy()
        let run = try HeraldProcess.run(["run", "campaigns/welcome.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("completed"), "\(run.stdout)")
    }

    /// The routing example: the US rows through `first`, the UK ones through `second`, as its
    /// comment and the README say; each simulator's outbox holds its own.
    @Test func theRoutingExampleSendsEachCountryThroughTheCheaperProvider() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/routed.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("cost by provider (routing: least_cost)"), "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/routed.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0 && run.stdout.contains("9 sent"), "\(run.stdout)\n\(run.stderr)")
        func destinations(_ file: String) throws -> [String] {
            let data = try #require(FileManager.default.contents(atPath: fixture.path(".herald/\(file)")))
            return try data.split(separator: UInt8(ascii: "\n")).map {
                try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])["destination"] as? String ?? "?"
            }
        }
        #expect(try destinations("routed-first-outbox.jsonl").allSatisfy { $0.hasPrefix("+1") })
        #expect(try destinations("routed-second-outbox.jsonl").allSatisfy { $0.hasPrefix("+44") })
        #expect(try destinations("routed-first-outbox.jsonl").count + destinations("routed-second-outbox.jsonl").count == 9)
    }

    /// The outbox lines of one shipped simulator, as objects.
    func outbox(_ fixture: CLIFixture, _ name: String) throws -> [[String: Any]] {
        let data = try #require(FileManager.default.contents(atPath: fixture.path(".herald/\(name)")))
        return try data.split(separator: UInt8(ascii: "\n")).map { try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
    }

    @Test func theSegmentExampleSendsOnlyItsSegment() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/segment.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("rows 10: 2 to send, 8 left out by where:") && estimate.stdout.contains("country == GB"),
                "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/segment.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // GB rows with 5 points or more, Barbara left out: Edsger (40) and Ken (7).
        let sent = try outbox(fixture, "segment-outbox.jsonl").compactMap { $0["destination"] as? String }
        #expect(sent.sorted() == ["+447700900001", "+447700900005"], "\(sent)")
    }

    @Test func thePoolExampleSendsEachRecipientFromItsIdentity() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/pool.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("by sender (sticky"), "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/pool.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = try outbox(fixture, "pool-outbox.jsonl")
        #expect(lines.count == 9)
        // Geomatch: UK numbers from the UK identity, US numbers from a US one.
        for line in lines {
            let to = line["destination"] as? String ?? "", from = line["from"] as? String ?? ""
            #expect(to.hasPrefix("+44") ? from == "+447700900100" : ["+15550100", "+15550101"].contains(from), "\(to) from \(from)")
        }
        let status = try HeraldProcess.run(["status", "pool", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(status.stdout.contains("sender +447700900100 (simulator): sent 5"), "\(status.stdout)")
    }
}
