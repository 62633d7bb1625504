import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// The suppression list is checked when rows are claimed: a number listed while a
/// campaign runs is skipped from the next claim on, for every sender or for one.
@Suite struct SuppressionTests {
    func entry(_ number: UInt64, scope: String = "") -> SuppressionEntry {
        SuppressionEntry(destination: number, scope: scope, reason: "asked", source: .manual, addedAt: 1)
    }

    @Test func addRemoveListAndCheck() throws {
        let journal = try Journal(path: temporaryJournalPath())
        #expect(try journal.suppress([entry(447700900001), entry(447700900002), entry(447700900001)]) == 2)
        #expect(try journal.suppress([entry(447700900002, scope: "+447700900123")]) == 1)
        #expect(try journal.suppressionCount() == 3)
        #expect(try journal.suppression(of: 447700900002).map(\.scope) == ["", "+447700900123"])
        #expect(try journal.suppressions(limit: 2).map(\.destination) == [447700900001, 447700900002])
        let rest = try journal.suppressions(after: (447700900002, ""), limit: 10)
        #expect(rest.map(\.scope) == ["+447700900123"])
        #expect(try journal.unsuppress([447700900002, 447700900009]) == 1)
        #expect(try journal.suppression(of: 447700900002).map(\.scope) == ["+447700900123"])
    }

    @Test func aNumberListedBetweenClaimsIsSkippedFromTheNextClaimOn() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: (1...8).map { 447700900000 + $0 })
        var cursor = ClaimCursor()
        let first = try journal.step(cid: cid, owner: owner, settle: [], claim: 2, cursor: &cursor, sender: "+447700900123")
        #expect(first.claimed.map(\.row) == [2, 3])
        // Line 5's number for every sender, line 6's for this sender, line 7's for another one.
        try journal.suppress([entry(447700900004), entry(447700900005, scope: "+447700900123"),
                              entry(447700900006, scope: "+15550100")])
        // A claim examines up to its limit: skipped rows count, as rows over max_price do.
        let next = try journal.step(cid: cid, owner: owner, settle: [], claim: 4, cursor: &cursor, sender: "+447700900123")
        #expect(next.claimed.map(\.row) == [4, 7])
        #expect(next.suppressed == 2)
        let last = try journal.step(cid: cid, owner: owner, settle: [], claim: 4, cursor: &cursor, sender: "+447700900123")
        #expect(last.claimed.map(\.row) == [8, 9])
        let counts = try journal.counts(cid: cid)
        #expect(counts.byReason[.suppressed] == 2)
        #expect(try journal.rows(cid: cid, in: .skipped, limit: 5).allSatisfy { $0.detail == "the number is on the suppression list" })
        #expect(try journal.checkCounters(cid: cid).isEmpty)
    }

    @Test func anOptedOutAnswerListsTheNumberForEveryCampaign() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: [447700900001, 447700900002])
        var cursor = ClaimCursor()
        let batch = try journal.step(cid: cid, owner: owner, settle: [], claim: 2, cursor: &cursor).claimed
        let settle = [Settlement(row: 2, state: .failed, reason: .optedOut, detail: "ConflictException").settling(batch[0]),
                      Settlement(row: 3, state: .sent).settling(batch[1])]
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor)
        let listed = try journal.suppression(of: 447700900001)
        #expect(listed.count == 1 && listed.first?.source == .optedOut && listed.first?.scope == "")
        #expect(try journal.suppression(of: 447700900002).isEmpty)
        #expect(try journal.counts(cid: cid).byReason[.optedOut] == 1)
    }
}
