import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// The budget guard as the journal applies it while claiming.
@Suite struct BudgetJournalTests {
    static let dollar: Int64 = 1_000_000_000

    /// A journal with one campaign whose rows cost `costs` (nano-dollars) in order.
    func campaign(_ journal: Journal, id: String = "spring", costs: [Int64], scope: LedgerScope = .real,
                  owner: LeaseOwner = LeaseOwner()) throws -> Int64 {
        var campaign = inputs
        campaign.id = id
        campaign.ledgerScope = scope
        let cid = cid(of: try open(journal, owner: owner, campaign))
        let writer = journal.importWriter(cid: cid)
        defer { journal.endImport() }
        var body = Array("hi".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for (index, cost) in costs.enumerated() {
                var row = ImportedRow(row: index + 2, destination: UInt64(447700900000 + index + Int(cid) * 1000),
                                      region: "GB", body: UnsafeBufferPointer(buffer))
                row.cost = cost
                row.parts = Int(cost / Self.dollar)
                try writer.add(row)
            }
        }
        _ = try writer.finish()
        return cid
    }

    func limits(campaign: String? = nil, monthly: String? = nil, maxPrice: String? = nil) -> BudgetContext {
        BudgetContext(limits: BudgetLimits(maxPrice: maxPrice.flatMap(Money.init), campaignLimit: campaign.flatMap(Money.init),
                                           monthlyLimit: monthly.flatMap(Money.init)), channel: .sms)
    }

    func spent(_ journal: Journal, _ cid: Int64) throws -> (reserved: Int64, spent: Int64) {
        let ledger = try journal.ledger(cid: cid)
        return (ledger.reduce(0) { $0 + $1.reserved.nanos }, ledger.reduce(0) { $0 + $1.spent.nanos })
    }

    @Test func limitExactlyReachedThenRaised() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 5), owner: owner)
        var cursor = ClaimCursor()
        let first = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor, budget: limits(campaign: "3.00"))
        #expect(first.claimed.map(\.row) == [2, 3, 4])
        #expect(first.exhausted == .campaign)
        #expect(try spent(journal, cid) == (3 * Self.dollar, 0))
        let settled = first.claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }
        let second = try journal.step(cid: cid, owner: owner, settle: settled, claim: 10, cursor: &cursor, budget: limits(campaign: "3.00"))
        #expect(second.claimed.isEmpty && second.exhausted == .campaign)
        #expect(try spent(journal, cid) == (0, 3 * Self.dollar))
        let raised = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor, budget: limits(campaign: "4.00"))
        #expect(raised.claimed.map(\.row) == [5])
    }

    @Test func oneNanoShortStopsBeforeTheMessage() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 5), owner: owner)
        var cursor = ClaimCursor()
        let result = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor,
                                      budget: limits(campaign: "2.999999999"))
        #expect(result.claimed.count == 2)
    }

    @Test func multipartMessageStraddlingTheLimitIsNotSent() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        // 1-part, 1-part, 3-part, 1-part messages at $1 a part; limit $4.
        let cid = try campaign(journal, costs: [Self.dollar, Self.dollar, 3 * Self.dollar, Self.dollar], owner: owner)
        var cursor = ClaimCursor()
        let result = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor, budget: limits(campaign: "4.00"))
        #expect(result.claimed.map(\.row) == [2, 3], "stops at the 3-part message, does not skip ahead")
        #expect(result.exhausted == .campaign)
    }

    @Test func overMaxPriceIsSkippedNotBlocking() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: [Self.dollar, 2 * Self.dollar, Self.dollar], owner: owner)
        var cursor = ClaimCursor()
        let result = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor,
                                      budget: limits(maxPrice: "1.00"))
        #expect(result.claimed.map(\.row) == [2, 4], "a price equal to MaxPrice is sent")
        #expect(result.overMaxPrice == 1)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.skipped] == 1 && counts.byReason == [.maxPrice: 1])
    }

    @Test func failureReleasesAndInDoubtStaysCounted() throws {
        let path = temporaryJournalPath()
        var journal = try Journal(path: path)
        let owner = LeaseOwner(token: "dead", pid: 999_999_99, host: LeaseOwner().host)
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 4), owner: owner)
        var cursor = ClaimCursor()
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 3, cursor: &cursor, budget: limits(campaign: "10")).claimed
        let outcomes = [
            Settlement(row: claimed[0].row, state: .failed, reason: .rejected).settling(claimed[0]),
            Settlement(row: claimed[1].row, state: .retry, reason: .throttled, notBefore: 0, countsAttempt: false).settling(claimed[1]),
        ]
        _ = try journal.step(cid: cid, owner: owner, settle: outcomes, claim: 0, cursor: &cursor, budget: limits(campaign: "10"))
        #expect(try spent(journal, cid) == (Self.dollar, 0), "only the row still in flight stays reserved")
        // The process dies with row 4 in flight: it comes back in doubt, still reserved.
        journal = try Journal(path: path)
        guard case .ready(_, let inDoubt) = try open(journal) else {
            Issue.record("expected ready")
            return
        }
        #expect(inDoubt == 1)
        #expect(try spent(journal, cid) == (Self.dollar, 0))
        try journal.resendInDoubt(cid: cid, providerDedupes: false)
        #expect(try spent(journal, cid) == (0, Self.dollar), "without dedupe the first attempt is counted as spent")
    }

    @Test func monthlySpendIsSharedAcrossCampaignsAndRollsOver() throws {
        let journal = try Journal(path: temporaryJournalPath())
        var clock: Int64 = 1_796_083_199_000  // 2026-11-30T23:59:59Z
        journal.now = { clock }
        let owner = LeaseOwner()
        let a = try campaign(journal, id: "a", costs: Array(repeating: Self.dollar, count: 3), owner: owner)
        let b = try campaign(journal, id: "b", costs: Array(repeating: Self.dollar, count: 3), owner: owner)
        let sim = try campaign(journal, id: "sim", costs: Array(repeating: Self.dollar, count: 3), scope: .simulated, owner: owner)
        var cursorA = ClaimCursor(), cursorB = ClaimCursor(), cursorSim = ClaimCursor()
        let monthly = limits(monthly: "4.00")
        #expect(try journal.step(cid: a, owner: owner, settle: [], claim: 3, cursor: &cursorA, budget: monthly).claimed.count == 3)
        let second = try journal.step(cid: b, owner: owner, settle: [], claim: 3, cursor: &cursorB, budget: monthly)
        #expect(second.claimed.count == 1 && second.exhausted == .monthly)
        #expect(try journal.step(cid: sim, owner: owner, settle: [], claim: 3, cursor: &cursorSim, budget: monthly).claimed.count == 3,
                "simulated spend is a ledger of its own")
        clock += 1_000  // 2026-12-01T00:00:00Z: a new month
        let december = try journal.step(cid: b, owner: owner, settle: [], claim: 3, cursor: &cursorB, budget: monthly)
        #expect(december.claimed.count == 2)
        #expect(try journal.ledger(cid: b).map(\.month) == [202611, 202612])
    }

    @Test func concurrentSendersNeverPassTheMonthlyLimit() async throws {
        let path = temporaryJournalPath()
        let setup = try Journal(path: path)
        let ownerA = LeaseOwner(), ownerB = LeaseOwner()
        let a = try campaign(setup, id: "a", costs: Array(repeating: Self.dollar / 10, count: 400), owner: ownerA)
        let b = try campaign(setup, id: "b", costs: Array(repeating: Self.dollar / 10, count: 400), owner: ownerB)
        let budget = limits(monthly: "25.00")
        // Two connections, as two processes would have, claiming at the same time.
        let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
            for (cid, owner) in [(a, ownerA), (b, ownerB)] {
                group.addTask {
                    let journal = try Journal(path: path)
                    var cursor = ClaimCursor()
                    var total = 0
                    while true {
                        let result = try journal.step(cid: cid, owner: owner, settle: [], claim: 7, cursor: &cursor, budget: budget)
                        total += result.claimed.count
                        if result.claimed.isEmpty { break }
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(claimed == 250, "exactly $25.00 of $0.10 messages")
        #expect(try setup.monthSpend(month: BillingMonth.of(milliseconds: setup.now()), channel: .sms, scope: .real)
                == Money("25.00"))
    }
}
