import Foundation
import HeraldCore
import HeraldJournal
import HeraldPostgres
import HeraldSQLite
import Testing

/// The suppression list's commands, on both stores: what one adds, every claim sees.
@Suite struct SuppressionContractTests {
    func list(_ fixture: Fixture) throws -> any SuppressionJournal {
        switch try JournalLocation(parsing: fixture.location) {
        case .sqlite(let path): try Journal(path: path)
        case .postgres(let target): try PostgresJournal(target: target)
        }
    }

    @Test(arguments: Store.allCases)
    func addRemovePageAndCheck(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try list(fixture)
        let entries: [SuppressionEntry] = [
            SuppressionEntry(destination: 15_550_100_03, reason: "asked", source: .manual, addedAt: 1),
            SuppressionEntry(destination: 15_550_100_01, source: .imported, addedAt: 2),
            SuppressionEntry(destination: 15_550_100_01, scope: "+12025550100", source: .manual, addedAt: 3),
            SuppressionEntry(destination: 15_550_100_02, source: .manual, addedAt: 4),
        ]
        #expect(try journal.suppress(entries) == 4)
        #expect(try journal.suppress([SuppressionEntry(destination: 15_550_100_03, reason: "again", source: .sync, addedAt: 9)]) == 0,
                "a number already listed keeps its first entry")
        #expect(try journal.suppressionCount() == 4)
        let first = try journal.suppressions(limit: 2)
        #expect(first.map(\.destination) == [15_550_100_01, 15_550_100_01])
        #expect(first.map(\.scope) == ["", "+12025550100"])
        let rest = try journal.suppressions(after: (first[1].destination, first[1].scope), limit: 10)
        #expect(rest.map(\.destination) == [15_550_100_02, 15_550_100_03])
        let three = try journal.suppression(of: 15_550_100_03)
        #expect(three.count == 1 && three[0].reason == "asked" && three[0].source == .manual && three[0].addedAt == 1)
        #expect(try journal.unsuppress([15_550_100_01], scope: "+12025550100") == 1)
        #expect(try journal.unsuppress([15_550_100_01, 15_550_100_09]) == 1)
        #expect(try journal.suppression(of: 15_550_100_01).isEmpty)
        let abandoned = try journal.suppressAll { add in
            try add(SuppressionEntry(destination: 15_550_100_07, source: .imported, addedAt: 5))
            return false
        }
        #expect(abandoned == nil)
        #expect(try journal.suppressionCount() == 2, "an abandoned import keeps nothing")
    }

    /// A number listed while a campaign is being sent is skipped from the next claim on.
    @Test(arguments: Store.allCases)
    func aNumberListedBetweenClaimsIsSkipped(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = try openCampaign(journal, owner: owner).cid
        try importRows(journal, cid: cid, numbers: numbers(4))
        #expect(try step(journal, cid: cid, owner: owner, claim: 1).claimed.map(\.row) == [2])
        try list(fixture).suppress([SuppressionEntry(destination: 447_700_900_003, source: .manual, addedAt: 0)])
        let next = try step(journal, cid: cid, owner: owner, claim: 3)
        #expect(next.claimed.map(\.row) == [3, 5] && next.suppressed == 1)
    }
    /// Entries for one sender skip only that sender's rows: line 5's number is listed for
    /// every sender, line 6's for this sender, line 7's for another one. A claim examines up
    /// to its limit: skipped rows count, as rows over max_price do (moved from the SQLite-only tests).
    @Test(arguments: Store.allCases)
    func anEntryForOneSenderSkipsOnlyThatSendersRows(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = try openCampaign(journal, owner: owner).cid
        try importRows(journal, cid: cid, numbers: numbers(8))
        var cursor = ClaimCursor()
        func claim(_ count: Int) throws -> StepResult {
            try journal.step(cid: cid, owner: owner, settle: [], claim: count, cursor: &cursor, budget: nil, gate: nil,
                             sender: "+447700900123", rate: nil)
        }
        #expect(try claim(2).claimed.map(\.row) == [2, 3])
        try list(fixture).suppress([
            SuppressionEntry(destination: 447_700_900_004, reason: "asked", source: .manual, addedAt: 1),
            SuppressionEntry(destination: 447_700_900_005, scope: "+447700900123", reason: "asked", source: .manual, addedAt: 1),
            SuppressionEntry(destination: 447_700_900_006, scope: "+15550100", reason: "asked", source: .manual, addedAt: 1),
        ])
        let next = try claim(4)
        #expect(next.claimed.map(\.row) == [4, 7] && next.suppressed == 2)
        #expect(try claim(4).claimed.map(\.row) == [8, 9])
        #expect(try journal.counts(cid: cid).byReason[.suppressed] == 2)
        #expect(try journal.rows(cid: cid, in: .skipped, limit: 5).allSatisfy { $0.detail == "the number is on the suppression list" })
        #expect(try #require(journal as? any MaintenanceJournal).checkCounters(cid: cid).isEmpty)
    }
}
