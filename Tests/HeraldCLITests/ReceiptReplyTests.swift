import Foundation
import HeraldTestSupport
import Testing

/// Recipient care from receipts, through the real binary: a STOP reply posted to the
/// receiver puts the number on the suppression list (the next campaign skips it), a
/// START reply lifts it; with `suppress_undeliverable`, a receipt calling a number
/// invalid suppresses it.
@Suite(.serialized) struct ReceiptReplyTests {
    func check(_ fixture: CLIFixture, _ number: String) throws -> String {
        try HeraldProcess.run(["suppress", "check", number, "--journal", "journal.sqlite"], in: fixture.folder).stdout
    }

    @Test func stopAndStartRepliesMoveTheNumberOnAndOffTheList() async throws {
        let fixture = try CLIFixture()
        let phones = CLIFixture.rows(3).map(\.phone)
        let server = try ReceiptServerProcess(fixture, arguments: ["--stop-words", "STOP,ARRET,STOPP", "--start-words", "START"])
        func reply(_ from: String, _ text: String) -> Int? {
            server.post("agile", #"{"channel":"RCS","eventType":"INBOUND","messageId":"in-\#(UUID().uuidString)","source":"\#(from)","destination":"+447700900000","receivedDate":"2026-11-30T10:45:00Z","messageType":"TEXT","text":"\#(text)"}"#)?.status
        }
        #expect(reply(phones[0], "Stop.") == 204)
        #expect(reply(phones[1], "arret merci") == 204)
        #expect(reply(phones[2], "Thanks, see you Tuesday") == 204)
        #expect(try check(fixture, phones[0]).contains("reply"), "a stop reply suppresses")
        #expect(try check(fixture, phones[1]).contains("reply"))
        #expect(try check(fixture, phones[2]).contains("not listed"), "other replies change nothing")
        // A campaign to all three skips the two who said stop.
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("after", extra: "")
        let run = try HeraldProcess.run(["run", file, "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.stdout.contains("1 sent") && run.stdout.contains("suppressed 2"), "\(run.stdout)\n\(run.stderr)")
        // START lifts what a reply put there, not what a person added.
        _ = try HeraldProcess.run(["suppress", "add", phones[2], "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(reply(phones[0], "START") == 204)
        #expect(reply(phones[2], "start") == 204)
        #expect(try check(fixture, phones[0]).contains("not listed"), "a start reply lifts the reply's entry")
        #expect(try check(fixture, phones[2]).contains("manual"), "a start reply leaves a manual entry")
        let stopped = server.stop()
        #expect(stopped.stdout.contains("5 replies"), "\(stopped.stdout)")
        let status = try HeraldProcess.run(["status", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(status.stdout.contains("replies from recipients: agile 5"), "\(status.stdout)")
        #expect(!stopped.stdout.contains(phones[0]) && !stopped.stderr.contains(phones[0]), "numbers are not logged")
    }

    @Test func awsTwoWayRepliesThroughTheEventPathToo() async throws {
        let fixture = try CLIFixture()
        let phone = CLIFixture.rows(1)[0].phone
        // A two-way message as AWS publishes it, in an event file.
        try fixture.write("inbound.json", #"{"originationNumber":"\#(phone)","destinationNumber":"+12025550100","messageKeyword":"KEYWORD_123456789012","messageBody":"STOP","inboundMessageId":"in-1","previousPublishedMessageId":"m-1"}"#)
        let imported = try HeraldProcess.run(["receipts", "import", "inbound.json", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try check(fixture, phone).contains("reply"))
    }

    @Test func invalidNumberReceiptsSuppressWhenTheCampaignAsks() async throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(2)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let careful = try fixture.campaign("careful", extra: "suppress_undeliverable: true")
        let first = try HeraldProcess.run(["run", careful, "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(first.stdout.contains("2 sent"), "\(first.stdout)\n\(first.stderr)")
        func invalid(_ campaign: String, _ row: Int) -> String {
            #"{"eventType":"TEXT_INVALID","eventTimestamp":1764496800000,"isFinal":true,"messageId":"m-\#(row)","messageStatus":"INVALID","messageStatusDescription":"invalid destination","context":{"campaign":"\#(campaign)","herald_row":"\#(row)"}}"#
        }
        // The plain campaign: an invalid-number receipt is recorded, nothing suppressed.
        let plain = try fixture.campaign("plain", extra: "")
        _ = try HeraldProcess.run(["run", plain, "--journal", "journal.sqlite"], in: fixture.folder)
        try fixture.write("events.json", invalid("plain", 3) + "\n" + invalid("careful", 2))
        let imported = try HeraldProcess.run(["receipts", "import", "events.json", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(imported.stdout.contains("2 matched"), "\(imported.stdout)\n\(imported.stderr)")
        #expect(try check(fixture, rows[0].phone).contains("undeliverable"), "careful line 2 is suppressed")
        #expect(try check(fixture, rows[1].phone).contains("not listed"), "plain line 3 is not")
    }
}
