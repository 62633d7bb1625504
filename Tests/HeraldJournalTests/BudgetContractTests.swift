import Foundation
import HeraldCore
import HeraldJournal
import HeraldPostgres
import HeraldSQLite
import Testing

/// The budget guard as each store applies it while claiming: the same limits, the same rows
/// claimed, the same ledger, on SQLite and PostgreSQL (moved here from the SQLite-only tests).
@Suite struct BudgetContractTests {
    static let dollar: Int64 = 1_000_000_000

    /// A campaign whose rows cost `costs` (nano-dollars) in order, a part per dollar.
    func campaign(_ journal: any CampaignJournal, id: String = "spring", costs: [Int64], scope: LedgerScope = .real,
                  owner: LeaseOwner) throws -> Int64 {
        var inputs = campaignInputs
        inputs.id = id
        inputs.ledgerScope = scope
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hi".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for (index, cost) in costs.enumerated() {
                var row = ImportedRow(row: index + 2, destination: UInt64(447_700_900_000 + index + Int(cid) * 1000),
                                      region: "GB", body: UnsafeBufferPointer(buffer))
                row.cost = cost
                row.parts = Int(cost / Self.dollar)
                try writer.add(row)
            }
        }
        try writer.finish()
        return cid
    }

    func limits(campaign: String? = nil, monthly: String? = nil, maxPrice: String? = nil) -> BudgetContext {
        BudgetContext(limits: BudgetLimits(maxPrice: maxPrice.flatMap(Money.init), campaignLimit: campaign.flatMap(Money.init),
                                           monthlyLimit: monthly.flatMap(Money.init)), channel: .sms)
    }

    func spent(_ journal: any CampaignJournal, _ cid: Int64) throws -> (reserved: Int64, spent: Int64) {
        let ledger = try journal.ledger(cid: cid)
        return (ledger.reduce(0) { $0 + $1.reserved.nanos }, ledger.reduce(0) { $0 + $1.spent.nanos })
    }

    func claim(_ journal: any CampaignJournal, _ cid: Int64, _ owner: LeaseOwner, settle: [Settlement] = [], _ count: Int,
               _ cursor: inout ClaimCursor, _ budget: BudgetContext) throws -> StepResult {
        try journal.step(cid: cid, owner: owner, settle: settle, claim: count, cursor: &cursor, budget: budget, gate: nil,
                         sender: "", rate: nil)
    }

    @Test(arguments: Store.allCases)
    func limitExactlyReachedThenRaised(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 5), owner: owner)
        var cursor = ClaimCursor()
        let first = try claim(journal, cid, owner, 10, &cursor, limits(campaign: "3.00"))
        #expect(first.claimed.map(\.row) == [2, 3, 4])
        #expect(first.exhausted == .campaign)
        #expect(try spent(journal, cid) == (3 * Self.dollar, 0))
        let settled = first.claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }
        let second = try claim(journal, cid, owner, settle: settled, 10, &cursor, limits(campaign: "3.00"))
        #expect(second.claimed.isEmpty && second.exhausted == .campaign)
        #expect(try spent(journal, cid) == (0, 3 * Self.dollar))
        let raised = try claim(journal, cid, owner, 10, &cursor, limits(campaign: "4.00"))
        #expect(raised.claimed.map(\.row) == [5])
    }

    @Test(arguments: Store.allCases)
    func oneNanoShortStopsBeforeTheMessage(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 5), owner: owner)
        var cursor = ClaimCursor()
        #expect(try claim(journal, cid, owner, 10, &cursor, limits(campaign: "2.999999999")).claimed.count == 2)
    }

    @Test(arguments: Store.allCases)
    func multipartMessageStraddlingTheLimitIsNotSent(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        // 1-part, 1-part, 3-part, 1-part messages at $1 a part; limit $4.
        let cid = try campaign(journal, costs: [Self.dollar, Self.dollar, 3 * Self.dollar, Self.dollar], owner: owner)
        var cursor = ClaimCursor()
        let result = try claim(journal, cid, owner, 10, &cursor, limits(campaign: "4.00"))
        #expect(result.claimed.map(\.row) == [2, 3], "stops at the 3-part message, does not skip ahead")
        #expect(result.exhausted == .campaign)
    }

    @Test(arguments: Store.allCases)
    func overMaxPriceIsSkippedNotBlocking(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = try campaign(journal, costs: [Self.dollar, 2 * Self.dollar, Self.dollar], owner: owner)
        var cursor = ClaimCursor()
        let result = try claim(journal, cid, owner, 10, &cursor, limits(maxPrice: "1.00"))
        #expect(result.claimed.map(\.row) == [2, 4], "a price equal to MaxPrice is sent")
        #expect(result.overMaxPrice == 1)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.skipped] == 1 && counts.byReason == [.maxPrice: 1])
    }

    /// A failure releases its reservation; a row whose sender died stays reserved in doubt
    /// (SQLite) or, where the provider does not dedupe, in doubt on PostgreSQL too; resent
    /// without dedupe, its first attempt counts as spent.
    @Test(arguments: Store.allCases)
    func failureReleasesAndInDoubtStaysCounted(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let journal = try fixture.open()
        let owner = deadOwner()
        let cid = try campaign(journal, costs: Array(repeating: Self.dollar, count: 4), owner: owner)
        var cursor = ClaimCursor()
        let claimed = try claim(journal, cid, owner, 3, &cursor, limits(campaign: "10")).claimed
        let outcomes = [
            Settlement(row: claimed[0].row, state: .failed, reason: .rejected).settling(claimed[0]),
            Settlement(row: claimed[1].row, state: .retry, reason: .throttled, notBefore: 0, countsAttempt: false).settling(claimed[1]),
        ]
        _ = try claim(journal, cid, owner, settle: outcomes, 0, &cursor, limits(campaign: "10"))
        #expect(try spent(journal, cid) == (Self.dollar, 0), "only the row still in flight stays reserved")
        // The process dies with row 4 in flight: it comes back in doubt, still reserved.
        guard let (other, _, inDoubt) = try takeOver(fixture) else { return }
        #expect(inDoubt == 1)
        #expect(try spent(other, cid) == (Self.dollar, 0))
        #expect(try other.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: nil) == 1)
        #expect(try spent(other, cid) == (0, Self.dollar), "without dedupe the first attempt is counted as spent")
    }

    @Test(arguments: Store.allCases)
    func monthlySpendIsSharedAcrossCampaignsAndRollsOver(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let clock = try settableClock(journal)
        clock.time = 1_796_083_199_000  // 2026-11-30T23:59:59Z
        let owner = LeaseOwner()
        let a = try campaign(journal, id: "a", costs: Array(repeating: Self.dollar, count: 3), owner: owner)
        let b = try campaign(journal, id: "b", costs: Array(repeating: Self.dollar, count: 3), owner: owner)
        let sim = try campaign(journal, id: "sim", costs: Array(repeating: Self.dollar, count: 3), scope: .simulated, owner: owner)
        var cursorA = ClaimCursor(), cursorB = ClaimCursor(), cursorSim = ClaimCursor()
        let monthly = limits(monthly: "4.00")
        #expect(try claim(journal, a, owner, 3, &cursorA, monthly).claimed.count == 3)
        let second = try claim(journal, b, owner, 3, &cursorB, monthly)
        #expect(second.claimed.count == 1 && second.exhausted == .monthly)
        #expect(try claim(journal, sim, owner, 3, &cursorSim, monthly).claimed.count == 3, "simulated spend is a ledger of its own")
        clock.time += 1_000  // 2026-12-01T00:00:00Z: a new month
        let december = try claim(journal, b, owner, 3, &cursorB, monthly)
        #expect(december.claimed.count == 2)
        #expect(try journal.ledger(cid: b).map(\.month) == [202611, 202612])
    }

    /// Two connections, as two processes would have, claiming for two campaigns at once under
    /// one monthly limit: exactly the limit is reserved.
    @Test(arguments: Store.allCases)
    func concurrentSendersNeverPassTheMonthlyLimit(_ store: Store) async throws {
        guard let fixture = try Fixture(store) else { return }
        let setup = try fixture.open()
        let ownerA = LeaseOwner(), ownerB = LeaseOwner()
        let a = try campaign(setup, id: "a", costs: Array(repeating: Self.dollar / 10, count: 400), owner: ownerA)
        let b = try campaign(setup, id: "b", costs: Array(repeating: Self.dollar / 10, count: 400), owner: ownerB)
        let budget = limits(monthly: "25.00")
        let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
            for (cid, owner) in [(a, ownerA), (b, ownerB)] {
                group.addTask {
                    let journal = try fixture.open()
                    var cursor = ClaimCursor()
                    var total = 0
                    while true {
                        let result = try claim(journal, cid, owner, 7, &cursor, budget)
                        total += result.claimed.count
                        if result.claimed.isEmpty { break }
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(claimed == 250, "exactly $25.00 of $0.10 messages")
        #expect(try setup.monthSpend(month: BillingMonth.of(milliseconds: setup.currentTime()), channel: .sms, scope: .real)
                == Money("25.00"))
    }
}

/// A clock a test moves by hand.
final class Clock: @unchecked Sendable {
    var time: Int64
    init(_ time: Int64) { self.time = time }
}

/// Makes `journal`'s clock one the test moves, from now.
func settableClock(_ journal: any CampaignJournal) throws -> Clock {
    let clock = Clock(journal.currentTime())
    switch journal {
    case let sqlite as Journal: sqlite.now = { clock.time }
    case let postgres as PostgresJournal: postgres.now = { clock.time }
    default: throw ClockError()
    }
    return clock
}

struct ClockError: Error {}
