import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// Counters are kept in the transactions that change rows: after every kind of
/// change, `checkCounters` (a full recount) finds them equal to the rows.
let dollar: Int64 = 1_000_000_000

/// Imports rows 2...count+1 with a cost per CSV line.
func importCosted(_ journal: Journal, cid: Int64, numbers: [UInt64?], costs: (Int) -> Int64) throws {
    let writer = journal.importWriter(cid: cid, batchSize: 4)
    defer { journal.endImport() }
    var body = Array("hello".utf8)
    try body.withUnsafeMutableBufferPointer { buffer in
        for (index, number) in numbers.enumerated() {
            var row = ImportedRow(row: index + 2, destination: number, region: "GB", body: UnsafeBufferPointer(buffer),
                                  skipReason: number == nil ? .badNumber : nil)
            row.cost = costs(index + 2)
            try writer.add(row)
        }
    }
    _ = try writer.finish()
}

@Suite struct CounterTests {
    func expectNoDrift(_ journal: Journal, _ cid: Int64, _ step: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.isEmpty, "after \(step): \(drift)", sourceLocation: sourceLocation)
    }

    @Test func everyChangeKeepsCountersEqualToTheRows() throws {
        let path = temporaryJournalPath()
        let owner = LeaseOwner(token: "first", pid: 999_999_99, host: LeaseOwner().host)
        var journal = try Journal(path: path)
        let cid = cid(of: try open(journal, owner: owner))
        // Rows 2...21: a bad number at line 4, a duplicate of line 2 at line 9.
        var numbers: [UInt64?] = (1...20).map { 447700900000 + UInt64($0) }
        numbers[2] = nil
        numbers[7] = numbers[0]
        // Lines 6 and 7 cost more than max_price.
        try importCosted(journal, cid: cid, numbers: numbers, costs: { $0 == 6 || $0 == 7 ? 2 * dollar : dollar / 2 })
        try expectNoDrift(journal, cid, "import")
        #expect(try journal.counts(cid: cid).byReason == [.badNumber: 1, .duplicate: 1])

        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(maxPrice: Money("1.00"), campaignLimit: Money("100")), channel: .sms)
        var batch = try journal.step(cid: cid, owner: owner, settle: [], claim: 6, cursor: &cursor, budget: budget).claimed
        try expectNoDrift(journal, cid, "first claim")
        #expect(try journal.counts(cid: cid).byReason[.maxPrice] == 2)
        var settle: [Settlement] = []
        let outcomes: [(MessageState, Reason?)] = [(.sent, nil), (.failed, .rejected), (.retry, .throttled), (.inDoubt, .lostAnswer),
                                                    (.retry, .transient), (.pending, .spendLimit)]
        for (message, outcome) in zip(batch, outcomes) {
            settle.append(Settlement(row: message.row, state: outcome.0, reason: outcome.1, notBefore: 0).settling(message))
        }
        batch = try journal.step(cid: cid, owner: owner, settle: settle, claim: 4, cursor: &cursor, budget: budget).claimed
        try expectNoDrift(journal, cid, "settling every kind of outcome")
        #expect(!batch.isEmpty)
        // Every window closed for an hour: due retries and pending rows wait.
        let closed: SendGate = { _, now in now + 3_600_000 }
        let waited = try journal.step(cid: cid, owner: owner, settle: [], claim: 3, cursor: &cursor, budget: budget, gate: closed)
        #expect(waited.claimed.isEmpty && waited.deferred > 0)
        try expectNoDrift(journal, cid, "send windows")
        #expect(try journal.counts(cid: cid).waitingByReason[.window] == waited.deferred)

        // The process dies with rows `sending`: the next opener finds them in doubt.
        journal = try Journal(path: path)
        guard case .ready(_, let recovered) = try open(journal) else {
            Issue.record("expected ready")
            return
        }
        #expect(recovered == batch.count)
        try expectNoDrift(journal, cid, "crash recovery")
        #expect(try journal.counts(cid: cid).inDoubtByReason[.interrupted] == recovered)
        try journal.resendInDoubt(cid: cid, providerDedupes: true)
        try expectNoDrift(journal, cid, "resending in-doubt rows")
        #expect(try journal.request(.cancel, campaign: "spring"))
        try expectNoDrift(journal, cid, "cancel")
        let counts = try journal.counts(cid: cid)
        #expect(counts[.pending] == 0 && counts[.retry] == 0 && counts.byReason[.cancelled]! > 0)
        #expect(counts.total == 20)
    }

    @Test func doctorFindsAndRepairsDrift() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let cid = cid(of: try open(journal))
        try importRows(journal, cid: cid, numbers: (1...5).map { 447700900000 + $0 })
        try journal.db.execute("UPDATE tally SET n = n + 2 WHERE state = \(MessageState.pending.sql)")
        try journal.db.execute("UPDATE campaign SET pending_after = 4")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.map(\.what).contains("rows pending"))
        #expect(drift.contains { $0.what.hasPrefix("pending rows before line 5") && $0.fromRows == 3 })
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        #expect(try journal.counts(cid: cid)[.pending] == 5)
    }

    @Test func aRowPutBackToPendingIsClaimedAgainByTheNextRun() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: (1...6).map { 447700900000 + $0 })
        var cursor = ClaimCursor()
        let batch = try journal.step(cid: cid, owner: owner, settle: [], claim: 4, cursor: &cursor).claimed
        #expect(batch.map(\.row) == [2, 3, 4, 5])
        // A stop: the first two were sent, the last two never left.
        let settle = [Settlement(row: 2, state: .sent).settling(batch[0]), Settlement(row: 3, state: .sent).settling(batch[1]),
                      Settlement(row: 4, state: .pending, countsAttempt: false).settling(batch[2]),
                      Settlement(row: 5, state: .pending, countsAttempt: false).settling(batch[3])]
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        var fresh = ClaimCursor()
        let next = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &fresh).claimed
        #expect(next.map(\.row) == [4, 5, 6, 7])
        #expect(try journal.checkCounters(cid: cid).isEmpty)
    }
}

/// In doubt means in doubt: once an attempt's outcome is unknown, only an answer that
/// settles it (accepted, or a rejection that proves non-delivery) ends the row.
@Suite struct DoubtTests {
    func doubtedRow(_ journal: Journal, path: String) throws -> (cid: Int64, claim: ClaimedMessage, owner: LeaseOwner) {
        let dead = LeaseOwner(token: "dead", pid: 999_999_99, host: LeaseOwner().host)
        let cid = cid(of: try open(journal, owner: dead))
        try importCosted(journal, cid: cid, numbers: [447700900001], costs: { _ in dollar })
        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money("10.00")), channel: .sms)
        _ = try journal.step(cid: cid, owner: dead, settle: [], claim: 1, cursor: &cursor, budget: budget)
        // Killed before the answer was recorded; the next process resends it.
        let owner = LeaseOwner()
        let reopened = try Journal(path: path)
        guard case .ready(_, 1) = try open(reopened, owner: owner) else { throw DoubtError() }
        try reopened.resendInDoubt(cid: cid, providerDedupes: true)
        var next = ClaimCursor()
        let claim = try reopened.step(cid: cid, owner: owner, settle: [], claim: 1, cursor: &next, budget: budget).claimed
        guard claim.count == 1 else { throw DoubtError() }
        return (cid, claim[0], owner)
    }

    struct DoubtError: Error {}

    @Test(arguments: [
        (MessageState.failed, Reason.transient, MessageState.inDoubt),
        (.failed, .rejected, .failed),
        (.sent, nil, .sent),
        (.inDoubt, .lostAnswer, .inDoubt),
    ] as [(MessageState, Reason?, MessageState)])
    func laterAnswersSettleOnlyWhenTheyProveSomething(outcome: MessageState, reason: Reason?, expected: MessageState) throws {
        let path = temporaryJournalPath()
        let journal = try Journal(path: path)
        let (cid, claim, owner) = try doubtedRow(journal, path: path)
        let settled = Settlement(row: claim.row, state: outcome, reason: reason, detail: "HTTP 500").settling(claim)
        var cursor = ClaimCursor()
        let reader = try Journal(path: path)
        _ = try reader.step(cid: cid, owner: owner, settle: [settled], claim: 0, cursor: &cursor)
        let counts = try reader.counts(cid: cid)
        #expect(counts[expected] == 1)
        #expect(try reader.checkCounters(cid: cid).isEmpty)
        let ledger = try reader.ledger(cid: cid)
        let reserved = ledger.reduce(Money.zero) { $0 + $1.reserved }
        let spent = ledger.reduce(Money.zero) { $0 + $1.spent }
        // The first attempt may have been delivered: its cost was counted as spent when the row
        // was resent, and the resend (the provider dedupes) reserves and spends nothing more,
        // whatever its answer says.
        #expect(claim.cost == dollar && claim.reserved == 0)
        #expect(reserved == .zero && spent == Money(nanos: dollar))
        if expected == .inDoubt, outcome == .failed {
            let note = try reader.rows(cid: cid, in: .inDoubt, limit: 1)
            #expect(note.first?.reason == .interrupted)
            #expect(note.first?.detail?.contains("an earlier attempt may have been delivered (interrupted); then HTTP 500") == true)
        }
    }
}
