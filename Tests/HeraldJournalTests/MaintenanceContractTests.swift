import Foundation
import HeraldCore
import HeraldJournal
import HeraldPostgres
@testable import HeraldSQLite
import HeraldTestSupport
import Testing

/// `herald doctor` on both stores: counters that drift from the rows are found by the same
/// comparison (`CounterCheck`) and rebuilt from the rows.
@Suite struct MaintenanceContractTests {
    /// Moves a counter behind the journal's back, as a bug or a hand edit would.
    func corrupt(_ fixture: Fixture, _ journal: any MaintenanceJournal, _ sql: String) throws {
        if let file = journal as? Journal {
            try file.db.execute(sql)
        } else {
            _ = try TestPostgres.query(String(fixture.location.prefix { $0 != "?" }), sql)
        }
    }

    @Test(arguments: Store.allCases)
    func driftIsFoundAndRepaired(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = try openCampaign(journal, owner: owner).cid
        _ = try importRows(journal, cid: cid, numbers: numbers(6))
        let claimed = try step(journal, cid: cid, owner: owner, claim: 3).claimed
        #expect(claimed.count == 3)
        _ = try step(journal, cid: cid, owner: owner, settle: [
            Settlement(row: 2, state: .sent, providerRef: "m-2").settling(claimed[0]),
            Settlement(row: 3, state: .failed, reason: .rejected, detail: "opted out").settling(claimed[1]),
        ], claim: 0)
        #expect(try journal.checkCounters(cid: cid).isEmpty, "counters kept by the journal agree with its rows")

        try corrupt(fixture, journal, "UPDATE tally SET n = n + 2 WHERE state = \(MessageState.pending.rawValue)")
        try corrupt(fixture, journal, "DELETE FROM tally WHERE state = \(MessageState.failed.rawValue)")
        let drift = try journal.checkCounters(cid: cid)
        let what = Set(drift.map(\.what))
        #expect(what.isSuperset(of: ["rows pending", "rows failed", "skipped or failed for rejected"]), "\(drift)")
        let pending = drift.first { $0.what == "rows pending" }
        #expect(pending?.counted == 5 && pending?.fromRows == 3, "\(String(describing: pending))")

        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.pending] == 3 && counts[.failed] == 1 && counts[.sent] == 1 && counts[.sending] == 1)
    }
}

/// `herald purge` and `retention_days` on both stores: only a finished campaign, numbers and
/// bodies gone, counts kept, and the campaign never opened for sending again.
@Suite struct RetentionContractTests {
    func stillHeld(_ fixture: Fixture, _ journal: any RetentionJournal, cid: Int64) throws -> Int {
        let sql = "SELECT CAST(count(*) AS text) FROM message WHERE cid = \(cid) AND (dest IS NOT NULL OR body IS NOT NULL)"
        if let file = journal as? Journal {
            let statement = try file.db.statement(sql)
            defer { statement.reset() }
            _ = try statement.step()
            return statement.int(0)
        }
        let answer = try TestPostgres.query(String(fixture.location.prefix { $0 != "?" }), sql)
        return answer.first.flatMap { $0 }.flatMap { Int($0) } ?? -1
    }

    @Test(arguments: Store.allCases)
    func onlyAFinishedCampaignIsPurgedAndItsCountsStay(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = try openCampaign(journal, owner: owner).cid
        _ = try importRows(journal, cid: cid, numbers: numbers(4))
        let claimed = try step(journal, cid: cid, owner: owner, claim: 4).claimed
        #expect(try journal.purge(cid: cid, vacuum: true) == nil, "a running campaign is not purged")
        _ = try step(journal, cid: cid, owner: owner,
                     settle: claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "m-\($0.row)").settling($0) }, claim: 0)
        try journal.release(cid: cid, owner: owner, state: .completed)
        #expect(try stillHeld(fixture, journal, cid: cid) == 4)

        #expect(try journal.purge(cid: cid, vacuum: true) == 4)
        #expect(try stillHeld(fixture, journal, cid: cid) == 0, "numbers and bodies are gone")
        #expect(try journal.counts(cid: cid)[.sent] == 4, "the counts stay")
        #expect(try journal.campaign(id: campaignInputs.id, mode: campaignInputs.mode)?.purgedAt != nil)
        #expect(throws: JournalError.self, "a purged campaign is never opened for sending again") {
            _ = try openCampaign(journal, owner: LeaseOwner())
        }
    }
}
