import Foundation
import HeraldJournal
import HeraldSQLite
import Testing

/// The README's promise on the shipped example's setup: a run stopped by Ctrl-C while the
/// simulator's receipts are arriving resumes, and every recipient gets one message.
@Suite(.serialized) struct ResumeAfterStopTests {
    struct OutboxLine: Decodable { let destination: String }

    /// Issue 36, finding 1: `resume` exited 4 "journal locked" at once, left a batch
    /// `sending` for its own dead pid, and the outbox held more messages than the journal
    /// counted sent. Both the default journal and `--journal PATH`.
    @Test(arguments: [false, true])
    func ctrlCThenResumeWithSimulatedReceipts(explicitJournal: Bool) throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(3000)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "rs", provider: """
                {kind: simulator, latency_ms: "1-3", outbox: outbox.jsonl, seed: 7,
                 receipts: {delivered: 0.9, undelivered: 0.05, read: 0.3, latency_ms: "20-400"}}
                """,
            extra: "rate: {messages_per_second: 1500, burst: 50, max_in_flight: 8}")
        let journal = explicitJournal ? ["--journal", fixture.path("elsewhere/j.sqlite")] : []
        let run = try HeraldProcess(["run", file] + journal, in: fixture.folder)
        let deadline = Date().addingTimeInterval(60)
        while try outbox(fixture).count < 600, Date() < deadline { usleep(20_000) }
        run.signal(SIGINT)
        let stopped = run.wait(timeout: 30)
        #expect(stopped.status == 130, "\(stopped.stderr)")

        let resumed = try HeraldProcess.run(["resume", "rs"] + journal, in: fixture.folder, timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let sent = try outbox(fixture).map(\.destination)
        #expect(sent.count == rows.count, "every recipient once")
        #expect(Set(rows.map(\.phone)).subtracting(sent).count == 0, "no recipient missed")

        let store = try Journal(path: explicitJournal ? fixture.path("elsewhere/j.sqlite") : fixture.path(".herald/journal.sqlite"),
                                create: false)
        let record = try #require(try store.campaign(id: "rs", mode: .real))
        let counts = try store.counts(cid: record.cid)
        #expect(counts[.sent] == rows.count && counts[.sending] == 0 && counts[.inDoubt] == 0)
        let delivery = try store.deliverySummary(cid: record.cid)
        #expect(delivery.finals <= counts[.sent], "delivered never exceeds sent")
        #expect(try store.checkCounters(cid: record.cid).isEmpty, "doctor finds the counters equal to the rows")
    }

    func outbox(_ fixture: CLIFixture) throws -> [OutboxLine] {
        guard let data = FileManager.default.contents(atPath: fixture.path("outbox.jsonl")) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(OutboxLine.self, from: Data($0)) }
    }
}
