import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// Counters are kept in the transactions that change rows: after every kind of change,
/// `checkCounters` (a full recount) finds them equal to the rows, on both stores (moved
/// here from the SQLite-only tests).
@Suite struct CounterContractTests {
    static let dollar: Int64 = 1_000_000_000

    /// Imports rows 2...count+1 with a cost per CSV line; nil numbers are bad numbers.
    func importCosted(_ journal: any CampaignJournal, cid: Int64, numbers: [UInt64?], costs: (Int) -> Int64) throws {
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for (index, number) in numbers.enumerated() {
                var row = ImportedRow(row: index + 2, destination: number, region: "GB", body: UnsafeBufferPointer(buffer),
                                      skipReason: number == nil ? .badNumber : nil)
                row.cost = costs(index + 2)
                try writer.add(row)
            }
        }
        try writer.finish()
    }

    func expectNoDrift(_ journal: any CampaignJournal, _ cid: Int64, _ step: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let drift = try #require(journal as? any MaintenanceJournal).checkCounters(cid: cid)
        #expect(drift.isEmpty, "after \(step): \(drift)", sourceLocation: sourceLocation)
    }

    func claim(_ journal: any CampaignJournal, _ cid: Int64, _ owner: LeaseOwner, settle: [Settlement] = [], _ count: Int,
               _ cursor: inout ClaimCursor, budget: BudgetContext? = nil, gate: SendGate? = nil) throws -> StepResult {
        try journal.step(cid: cid, owner: owner, settle: settle, claim: count, cursor: &cursor, budget: budget, gate: gate,
                         sender: "", rate: nil)
    }

    @Test(arguments: Store.allCases)
    func everyChangeKeepsCountersEqualToTheRows(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let owner = deadOwner()
        let journal = try fixture.open()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        // Rows 2...21: a bad number at line 4, a duplicate of line 2 at line 9.
        var numbers: [UInt64?] = (1...20).map { 447_700_900_000 + UInt64($0) }
        numbers[2] = nil
        numbers[7] = numbers[0]
        // Lines 6 and 7 cost more than max_price.
        try importCosted(journal, cid: cid, numbers: numbers, costs: { $0 == 6 || $0 == 7 ? 2 * Self.dollar : Self.dollar / 2 })
        try expectNoDrift(journal, cid, "import")
        #expect(try journal.counts(cid: cid).byReason == [.badNumber: 1, .duplicate: 1])

        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(maxPrice: Money("1.00"), campaignLimit: Money("100")), channel: .sms)
        var batch = try claim(journal, cid, owner, 6, &cursor, budget: budget).claimed
        try expectNoDrift(journal, cid, "first claim")
        #expect(try journal.counts(cid: cid).byReason[.maxPrice] == 2)
        let outcomes: [(MessageState, Reason?)] = [(.sent, nil), (.failed, .rejected), (.retry, .throttled), (.inDoubt, .lostAnswer),
                                                    (.retry, .transient), (.pending, .spendLimit)]
        let settle = zip(batch, outcomes).map { message, outcome in
            Settlement(row: message.row, state: outcome.0, reason: outcome.1, notBefore: 0).settling(message)
        }
        batch = try claim(journal, cid, owner, settle: settle, 4, &cursor, budget: budget).claimed
        try expectNoDrift(journal, cid, "settling every kind of outcome")
        #expect(!batch.isEmpty)
        // Every window closed for an hour: due retries and pending rows wait.
        let closed: SendGate = { _, now in now + 3_600_000 }
        let waited = try claim(journal, cid, owner, 3, &cursor, budget: budget, gate: closed)
        #expect(waited.claimed.isEmpty && waited.deferred > 0)
        try expectNoDrift(journal, cid, "send windows")
        #expect(try journal.counts(cid: cid).waitingByReason[.window] == waited.deferred)

        // The process dies with rows `sending`: the next opener finds them in doubt.
        guard let (other, _, recovered) = try takeOver(fixture) else { return }
        #expect(recovered == batch.count)
        try expectNoDrift(other, cid, "crash recovery")
        #expect(try other.counts(cid: cid).inDoubtByReason[.interrupted] == recovered)
        #expect(try other.resendInDoubt(cid: cid, providerDedupes: true, attemptedBefore: nil) >= recovered)
        try expectNoDrift(other, cid, "resending in-doubt rows")
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        try expectNoDrift(other, cid, "cancel")
        let counts = try other.counts(cid: cid)
        #expect(counts[.pending] == 0 && counts[.retry] == 0 && counts.byReason[.cancelled, default: 0] > 0)
        #expect(counts.total == 20)
    }

    @Test(arguments: Store.allCases)
    func aRowPutBackToPendingIsClaimedAgainByTheNextRun(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(6))
        var cursor = ClaimCursor()
        let batch = try claim(journal, cid, owner, 4, &cursor).claimed
        #expect(batch.map(\.row) == [2, 3, 4, 5])
        // A stop: the first two were sent, the last two never left.
        let settle = [Settlement(row: 2, state: .sent).settling(batch[0]), Settlement(row: 3, state: .sent).settling(batch[1]),
                      Settlement(row: 4, state: .pending, countsAttempt: false).settling(batch[2]),
                      Settlement(row: 5, state: .pending, countsAttempt: false).settling(batch[3])]
        _ = try claim(journal, cid, owner, settle: settle, 0, &cursor)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        let next = try fixture.open()
        guard case .ready = try openCampaign(next, owner: owner) else {
            Issue.record("a stopped campaign opens ready")
            return
        }
        var fresh = ClaimCursor()
        #expect(try claim(next, cid, owner, 10, &fresh).claimed.map(\.row) == [4, 5, 6, 7])
        try expectNoDrift(next, cid, "the next run")
    }

    /// In doubt means in doubt: once an attempt's outcome is unknown, only an answer that
    /// settles it (accepted, or a rejection that proves non-delivery) ends the row. The
    /// resend (the provider dedupes) reserves and spends nothing more, whatever its answer.
    @Test(arguments: Store.allCases, [
        (MessageState.failed, Reason.transient, MessageState.inDoubt),
        (.failed, .rejected, .failed),
        (.sent, nil, .sent),
        (.inDoubt, .lostAnswer, .inDoubt),
    ] as [(MessageState, Reason?, MessageState)])
    func laterAnswersSettleOnlyWhenTheyProveSomething(_ store: Store, _ answer: (outcome: MessageState, reason: Reason?, expected: MessageState))
        throws
    {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let dead = deadOwner()
        let journal = try fixture.open()
        let cid = cid(of: try openCampaign(journal, owner: dead))
        try importCosted(journal, cid: cid, numbers: [447_700_900_001], costs: { _ in Self.dollar })
        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money("10.00")), channel: .sms)
        _ = try claim(journal, cid, dead, 1, &cursor, budget: budget)
        // Killed before the answer was recorded; the next process resends it.
        guard let (other, owner, inDoubt) = try takeOver(fixture) else { return }
        #expect(inDoubt == 1)
        #expect(try other.resendInDoubt(cid: cid, providerDedupes: true, attemptedBefore: nil) == 1)
        var next = ClaimCursor()
        let claimed = try #require(try claim(other, cid, owner, 1, &next, budget: budget).claimed.first)
        #expect(claimed.cost == Self.dollar && claimed.reserved == 0)
        let settled = Settlement(row: claimed.row, state: answer.outcome, reason: answer.reason, detail: "HTTP 500").settling(claimed)
        _ = try claim(other, cid, owner, settle: [settled], 0, &next)
        let reader = try fixture.open()
        #expect(try reader.counts(cid: cid)[answer.expected] == 1)
        try expectNoDrift(reader, cid, "the answer")
        let ledger = try reader.ledger(cid: cid)
        #expect(ledger.reduce(Money.zero) { $0 + $1.reserved } == .zero && ledger.reduce(Money.zero) { $0 + $1.spent } == Money(nanos: Self.dollar))
        if answer.expected == .inDoubt, answer.outcome == .failed {
            let note = try reader.rows(cid: cid, in: .inDoubt, limit: 1)
            #expect(note.first?.reason == .interrupted)
            #expect(note.first?.detail?.contains("an earlier attempt may have been delivered (interrupted); then HTTP 500") == true)
        }
    }
}
