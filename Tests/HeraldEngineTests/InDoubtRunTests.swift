import Foundation
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// A row whose answer was lost may have been delivered: later transient failures leave
/// it in doubt, never `failed`, so "retry the failed rows" can never send it twice.
@Suite struct InDoubtRunTests {
    @Test func aDeliveredRowIsNeverReportedFailed() async throws {
        let fixture = try Fixture(
            rows: CampaignRunnerTests.header + Fixture.validRows(400) + "\n",
            provider: "{kind: simulator, outbox: outbox.jsonl, lost_answer_rate: 0.2, failure_rate: 0.45, seed: 11}",
            extra: "retry: {max_attempts: 2, initial_backoff_ms: 1, max_backoff_ms: 2}")
        var summary = try await fixture.runner().run()
        #expect(summary.counts.byReason[.transient, default: 0] > 0, "some rows really failed")
        #expect(summary.counts[.inDoubt] > 0, "a lost answer followed by a server error leaves the row in doubt")
        try expectFailedRowsUndelivered(fixture)
        // The simulator dedupes, so each resume sends the rows in doubt again (a new seed
        // each time, or a row would meet the same server error on every run).
        for attempt in 0..<30 where summary.counts[.inDoubt] > 0 {
            let file = try String(contentsOfFile: fixture.campaignPath, encoding: .utf8)
            try file.replacingOccurrences(of: "seed: \(11 + attempt)", with: "seed: \(12 + attempt)")
                .write(toFile: fixture.campaignPath, atomically: true, encoding: .utf8)
            summary = try await fixture.runner().run()
            try expectFailedRowsUndelivered(fixture)
        }
        #expect(summary.counts[.inDoubt] == 0)
        let outbox = try fixture.outbox()
        #expect(Set(outbox.map(\.key)).count == outbox.count, "each message delivered once")
        #expect(summary.counts[.sent] == outbox.count, "every delivered row ends sent")
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        #expect(try journal.checkCounters(cid: record.cid).isEmpty)
    }

    func expectFailedRowsUndelivered(_ fixture: Fixture) throws {
        let delivered = Set(try fixture.outbox().map { Int($0.key.split(separator: "/").last!)! })
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        let failed = try journal.rows(cid: record.cid, in: .failed, limit: 1000)
        #expect(!failed.isEmpty)
        #expect(failed.filter { delivered.contains($0.row) }.isEmpty, "rows marked failed were delivered")
        for row in try journal.rows(cid: record.cid, in: .inDoubt, limit: 1000) {
            #expect(row.reason == .lostAnswer || row.reason == .interrupted)
        }
    }
}
