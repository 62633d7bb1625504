import Foundation
import HeraldCore
import HeraldPostgres
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Synchronization
import Testing

/// The journal protocol's contract: every test runs against the SQLite journal and the
/// PostgreSQL one (a database of its own on `HERALD_TEST_POSTGRES_URL`; without it the
/// PostgreSQL half is skipped with a note, except in CI, where it fails).
enum Store: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }
}

/// Where one test's journal lives; `open()` makes another connection to it (another "process").
struct Fixture {
    let store: Store
    let location: String

    init?(_ store: Store, leaseTimeout: Int = 30) throws {
        self.store = store
        switch store {
        case .sqlite:
            location = FileManager.default.temporaryDirectory
                .appendingPathComponent("herald-contract-\(UUID().uuidString)/journal.sqlite").path
        case .postgres:
            guard TestPostgres.baseURL != nil else {
                if TestPostgres.required { Issue.record("\(TestPostgres.skipNote); CI must run them") } else { print(TestPostgres.skipNote) }
                return nil
            }
            location = try TestPostgres.freshDatabase() + "?sslmode=disable&lease_timeout=\(leaseTimeout)"
        }
    }

    func open() throws -> any CampaignJournal { try openStore() }

    /// Every capability both stores have, for the contract suites that test more than sending.
    typealias Capabilities = CampaignJournal & PlanningJournal & SuppressionJournal & MaintenanceJournal & RetentionJournal
        & ReportingJournal & ReceiptJournal

    func openStore() throws -> any Capabilities {
        switch try JournalLocation(parsing: location) {
        case .sqlite(let path): return try Journal(path: path)
        case .postgres(let target): return try PostgresJournal(target: target)
        }
    }
}

let campaignInputs = CampaignInputs(id: "spring", campaignPath: "/c.yaml", templateSHA: "t1", recipientsSHA: "r1", channel: .sms)

/// A sender that exists on no host: the SQLite journal takes its lease over at once.
func deadOwner() -> LeaseOwner { LeaseOwner(token: UUID().uuidString, pid: 999_999_99, host: LeaseOwner().host) }

/// Another connection opens the campaign of a `deadOwner()` and takes it over (on PostgreSQL
/// once the dead sender's heartbeat goes stale: a fixture with `leaseTimeout: 1`). Nil, with
/// the issue recorded, when the campaign does not open ready.
func takeOver(_ fixture: Fixture) throws -> (journal: any CampaignJournal, owner: LeaseOwner, inDoubt: Int)? {
    if fixture.store == .postgres { Thread.sleep(forTimeInterval: 1.3) }  // its heartbeat goes stale
    let journal = try fixture.open()
    let owner = LeaseOwner()
    guard case .ready(_, let inDoubt) = try openCampaign(journal, owner: owner) else {
        Issue.record("an imported campaign opens ready")
        return nil
    }
    return (journal, owner, inDoubt)
}

func cid(of opening: CampaignOpening) -> Int64 { opening.cid }

@discardableResult
func openCampaign(_ journal: any CampaignJournal, owner: LeaseOwner = LeaseOwner(), _ inputs: CampaignInputs = campaignInputs)
    throws -> CampaignOpening
{
    try journal.open(inputs, owner: owner, recipientsPath: "r.csv", templatePath: "t.yaml", unpause: true)
}

/// Imports rows 2...count+1 (CSV lines), each costing `cost` nano-dollars; nil numbers are skipped rows.
@discardableResult
func importRows(_ journal: any CampaignJournal, cid: Int64, numbers: [UInt64?], cost: Int64 = 0) throws -> Int {
    let writer = try journal.makeImporter(cid: cid)
    var body = Array("hello\tworld\\n".utf8)
    try body.withUnsafeMutableBufferPointer { buffer in
        for (index, number) in numbers.enumerated() {
            var row = ImportedRow(row: index + 2, destination: number, region: "GB", body: UnsafeBufferPointer(buffer),
                                  skipReason: number == nil ? .badNumber : nil, skipDetail: number == nil ? "not a number" : nil)
            row.cost = cost
            try writer.add(row)
        }
    }
    return try writer.finish()
}

func numbers(_ count: Int) -> [UInt64?] { (1...count).map { 447_700_900_000 + UInt64($0) } }

func step(_ journal: any CampaignJournal, cid: Int64, owner: LeaseOwner, settle: [Settlement] = [], claim: Int,
          budget: BudgetContext? = nil) throws -> StepResult {
    var cursor = ClaimCursor()
    return try journal.step(cid: cid, owner: owner, settle: settle, claim: claim, cursor: &cursor, budget: budget, gate: nil,
                            sender: "", rate: nil)
}

/// The columns `table` has in `journal`'s schema.
func schemaColumns(_ journal: any CampaignJournal, _ table: String) throws -> Set<String> {
    switch journal {
    case let sqlite as Journal: try sqlite.columns(of: table)
    case let postgres as PostgresJournal: try postgres.columns(of: table)
    default: []
    }
}

@Suite struct JournalContractTests {
    /// The progress line's ETA reads the rows not yet sent by zone: waiting ones by the minute they
    /// fall due too, each group with its earliest time, in order; then pending ones in file order.
    @Test(arguments: Store.allCases)
    func unsentRowsAreGroupedByZoneAndTheMinuteTheyFallDue(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        // Rows 2-9: zones A, B, A, B, ... ; row 10 none.
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<9 {
                var row = ImportedRow(row: index + 2, destination: 447_700_900_000 + UInt64(index), region: "GB",
                                      body: UnsafeBufferPointer(buffer))
                row.timeZones = index == 8 ? nil : ["Europe/London", "America/New_York"][index % 2]
                try writer.add(row)
            }
        }
        try writer.finish()
        #expect(try journal.remainingByZone(cid: cid) == [
            RemainingRows(zones: "Europe/London", due: nil, rows: 4), RemainingRows(zones: "America/New_York", due: nil, rows: 4),
            RemainingRows(zones: nil, due: nil, rows: 1),
        ])
        // The first six wait: openings in one, three and five hours (minute-aligned); one row of
        // the second opening 30 s after the other: the same minute, if the same zone.
        let minute: Int64 = 60_000
        let hour = (journal.currentTime() / minute + 60) * minute
        let openings = [hour, hour, hour + 2 * 60 * minute, hour + 2 * 60 * minute + 30_000, hour + 4 * 60 * minute,
                        hour + 4 * 60 * minute + 30_000]
        let next = Mutex(0)
        let gate: SendGate = { _, _ in next.withLock { index in
            defer { index += 1 }
            return openings[index % openings.count]
        } }
        var cursor = ClaimCursor()
        let waited = try journal.step(cid: cid, owner: owner, settle: [], claim: 6, cursor: &cursor, budget: nil, gate: gate,
                                      sender: "", rate: nil)
        #expect(waited.claimed.isEmpty && waited.deferred == 6)
        let london = "Europe/London", newYork = "America/New_York"
        let groups = try journal.remainingByZone(cid: cid)
        // Waiting by due (two zones of one minute in either order), then pending in file order.
        #expect(groups.count == 9)
        #expect(Set(groups.prefix(2)) == [RemainingRows(zones: london, due: hour, rows: 1), RemainingRows(zones: newYork, due: hour, rows: 1)])
        #expect(Set(groups[2..<4]) == [RemainingRows(zones: london, due: hour + 2 * 60 * minute, rows: 1),
                                       RemainingRows(zones: newYork, due: hour + 2 * 60 * minute + 30_000, rows: 1)])
        #expect(Set(groups[4..<6]) == [RemainingRows(zones: london, due: hour + 4 * 60 * minute, rows: 1),
                                       RemainingRows(zones: newYork, due: hour + 4 * 60 * minute + 30_000, rows: 1)])
        #expect(Array(groups[6...]) == [RemainingRows(zones: london, due: nil, rows: 1), RemainingRows(zones: newYork, due: nil, rows: 1),
                                        RemainingRows(zones: nil, due: nil, rows: 1)])
    }

    @Test(arguments: Store.allCases)
    func importCountsRowsAndDuplicates(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        guard case .needsImport(let cid) = try openCampaign(journal, owner: owner) else {
            Issue.record("a new campaign needs its rows")
            return
        }
        let duplicates = try importRows(journal, cid: cid, numbers: [447700900001, nil, 447700900002, 447700900001, 447700900003])
        #expect(duplicates == 1)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.pending] == 3 && counts[.skipped] == 2)
        #expect(counts.byReason == [.badNumber: 1, .duplicate: 1])
        #expect(try journal.campaign(id: "spring", mode: .real)?.totalRows == 5)
        try journal.release(cid: cid, owner: owner, state: .ready)
        guard case .ready(_, let inDoubt) = try openCampaign(try fixture.open()) else {
            Issue.record("an imported campaign opens ready")
            return
        }
        #expect(inDoubt == 0)
    }

    /// Claims in batches of seven until none is left: every row once, in file order (moved
    /// here, with the next, from the SQLite-only tests).
    @Test(arguments: Store.allCases)
    func claimsNeverReturnARowTwice(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(50))
        var cursor = ClaimCursor()
        var seen: [Int] = []
        var settle: [Settlement] = []
        while true {
            let batch = try journal.step(cid: cid, owner: owner, settle: settle, claim: 7, cursor: &cursor, budget: nil, gate: nil,
                                         sender: "", rate: nil).claimed
            if batch.isEmpty { break }
            seen += batch.map(\.row)
            settle = batch.map { Settlement(row: $0.row, state: .sent).settling($0) }
        }
        #expect(seen == Array(2...51))
        #expect(try journal.counts(cid: cid)[.sent] == 50)
    }

    /// Journey seed 7930: `herald cancel` came while the sender held its last rows; it never
    /// saw the request and completed every row. The campaign is completed, and opens again (a
    /// resume says so) instead of being refused as cancelled.
    @Test(arguments: Store.allCases)
    func aCancelAfterTheLastClaimLeavesTheCampaignCompleted(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(5))
        let claimed = try step(journal, cid: cid, owner: owner, claim: 10).claimed
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        _ = try step(journal, cid: cid, owner: owner, settle: claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }, claim: 0)
        try journal.release(cid: cid, owner: owner, state: .completed)
        #expect(try journal.counts(cid: cid)[.sent] == 5)
        let again = try fixture.open()
        guard case .ready = try openCampaign(again, owner: LeaseOwner()) else {
            Issue.record("a completed campaign opens again")
            return
        }
        #expect(try again.campaign(id: "spring", mode: .real)?.state == .completed)
    }

    /// Journey seed 60164: `herald cancel` while the sender held the campaign, after its send
    /// loop last looked; the sender then stopped at its budget. The campaign is cancelled, as
    /// the cancel's skipped rows and every later refused resume say, not `budget_exhausted`.
    @Test(arguments: Store.allCases)
    func aCancelTheSenderNeverSawWinsWhenItLeaves(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(5))
        let claimed = try step(journal, cid: cid, owner: owner, claim: 2).claimed
        _ = try step(journal, cid: cid, owner: owner, settle: claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }, claim: 0)
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        #expect(try journal.campaign(id: "spring", mode: .real)?.state != .cancelled, "held by a live sender: it finishes the cancel")
        try journal.release(cid: cid, owner: owner, state: .budgetExhausted)
        #expect(try journal.campaign(id: "spring", mode: .real)?.state == .cancelled)
        #expect(try journal.counts(cid: cid).byReason[.cancelled] == 3)
    }

    @Test(arguments: Store.allCases)
    func aDiscardedImportLeavesNoTrace(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try journal.discardImport(cid: cid)
        #expect(try journal.campaign(id: "spring", mode: .real) == nil)
        guard case .needsImport = try openCampaign(try fixture.open(), owner: owner) else {
            Issue.record("opened again, the campaign is imported afresh")
            return
        }
    }

    @Test(arguments: Store.allCases)
    func claimsSettleAndDueRetriesComeFirst(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(10))
        let batch = try step(journal, cid: cid, owner: owner, claim: 4).claimed
        #expect(batch.map(\.row) == [2, 3, 4, 5])
        #expect(batch[0].destination == 447700900001)
        #expect(batch[0].body == "hello\tworld\\n", "bodies come back byte for byte")
        let settled = [
            Settlement(row: 2, state: .sent, providerRef: "m-2"),
            Settlement(row: 3, state: .failed, reason: .rejected, detail: "opted out"),
            Settlement(row: 4, state: .retry, reason: .throttled, notBefore: 0, countsAttempt: false),
        ]
        let next = try step(journal, cid: cid, owner: owner, settle: settled, claim: 2).claimed
        #expect(next.map(\.row) == [4, 6], "a due retry comes before pending rows")
        let counts = try journal.counts(cid: cid)
        #expect(counts[.sent] == 1 && counts[.failed] == 1 && counts[.sending] == 3 && counts[.pending] == 5)
        #expect(counts.byReason == [.rejected: 1])
        #expect(try journal.rows(cid: cid, in: .failed, limit: 10).map(\.detail) == ["opted out"])
        // An outcome for a row this sender does not hold changes nothing.
        _ = try step(journal, cid: cid, owner: owner, settle: [Settlement(row: 9, state: .sent)], claim: 0)
        #expect(try journal.counts(cid: cid)[.sent] == 1)
    }

    @Test(arguments: Store.allCases)
    func rowsOfASenderThatDiedComeBackInDoubtAndResendOnRequest(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let first = deadOwner()
        let journal = try fixture.open()
        let cid = cid(of: try openCampaign(journal, owner: first))
        try importRows(journal, cid: cid, numbers: numbers(6), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: first, claim: 3).claimed
        #expect(claimed.count == 3)
        guard let taken = try takeOver(fixture) else { return }
        let (other, taker, inDoubt) = taken
        #expect(inDoubt == 3)
        let counts = try other.counts(cid: cid)
        #expect(counts[.inDoubt] == 3 && counts[.sending] == 0)
        #expect(counts.inDoubtByReason == [.interrupted: 3])
        #expect(try other.ledger(cid: cid).map(\.reserved) == [Money(nanos: 15_000_000)], "in doubt keeps its reservation")
        // The sender that lost its rows reports late: row 2 accepted, row 3 never sent (its
        // lease check failed), row 4 a failure that proves nothing.
        let late = [Settlement(row: 2, state: .sent, providerRef: "m-2").settling(claimed[0]),
                    Settlement(row: 3, state: .pending, countsAttempt: false).settling(claimed[1]),
                    Settlement(row: 4, state: .failed, reason: .transient, detail: "503").settling(claimed[2])]
        if store == .sqlite {
            // One lease per campaign: a step from a process that lost it is refused, but its
            // accepted answer is still evidence (as a receipt is); without epochs, the row
            // it never sent cannot be told from one it may have sent, and stays in doubt.
            let refused = #expect(throws: JournalError.self) { _ = try step(journal, cid: cid, owner: first, settle: late, claim: 0) }
            #expect(refused?.isLeaseConflict == true)
            let after = try other.counts(cid: cid)
            #expect(after[.sent] == 1 && after[.inDoubt] == 2, "\(after)")
            #expect(try other.rows(cid: cid, in: .sent, limit: 5).first?.detail == Fencing.lateDetail)
            #expect(try other.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: nil) == 2)
            let ledger = try other.ledger(cid: cid)
            #expect(ledger.map(\.reserved) == [.zero] && ledger.map(\.spent) == [Money(nanos: 15_000_000)],
                    "the accepted row spent; without dedupe the others' first attempts count as spent")
            let resent = try step(other, cid: cid, owner: taker, claim: 10).claimed
            #expect(resent.map(\.row) == [3, 4, 5, 6, 7])
            #expect(try #require(other as? any MaintenanceJournal).checkCounters(cid: cid).isEmpty)
            return
        }
        // Epochs: the accepted answer is evidence (sent, its reservation spent), the row never
        // sent leaves doubt (pending, released), the failure changes nothing.
        _ = try step(journal, cid: cid, owner: first, settle: late, claim: 0)
        let after = try other.counts(cid: cid)
        #expect(after[.sent] == 1 && after[.inDoubt] == 1 && after[.pending] == 4, "\(after)")
        let spend = try other.ledger(cid: cid)
        #expect(spend.map(\.reserved) == [Money(nanos: 5_000_000)] && spend.map(\.spent) == [Money(nanos: 5_000_000)], "\(spend)")
        // Resent by hand (due again, held by nobody), the row is still settled by a late answer
        // that its first request was accepted: the message went, and is not sent twice. Its
        // first attempt was counted as spent by the resend: nothing more is spent.
        #expect(try other.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: nil) == 1)
        _ = try step(journal, cid: cid, owner: first, settle: [Settlement(row: 4, state: .sent).settling(claimed[2])], claim: 0)
        #expect(try other.counts(cid: cid)[.sent] == 2)
        #expect(try other.ledger(cid: cid).map(\.spent) == [Money(nanos: 10_000_000)])
        let resent = try step(other, cid: cid, owner: taker, claim: 10).claimed
        #expect(resent.map(\.row) == [3, 5, 6, 7], "\(resent.map(\.row))")
        #expect(try #require(other as? any MaintenanceJournal).checkCounters(cid: cid).isEmpty)
    }

    @Test(arguments: Store.allCases)
    func aFailureThatProvesNothingLeavesTheRowInDoubt(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(2), cost: 1_000)
        _ = try step(journal, cid: cid, owner: owner, claim: 2)
        let lost = [Settlement(row: 2, state: .inDoubt, reason: .lostAnswer, detail: "timed out"),
                    Settlement(row: 3, state: .failed, reason: .transient, detail: "503")]
        _ = try step(journal, cid: cid, owner: owner, settle: lost, claim: 0)
        #expect(try journal.counts(cid: cid)[.inDoubt] == 1)
        try journal.resendInDoubt(cid: cid, providerDedupes: true, attemptedBefore: nil)
        #expect(try step(journal, cid: cid, owner: owner, claim: 5).claimed.map(\.row) == [2])
        _ = try step(journal, cid: cid, owner: owner, settle: [Settlement(row: 2, state: .failed, reason: .transient, detail: "503")],
                     claim: 0)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.inDoubt] == 1 && counts[.failed] == 1)
        #expect(counts.inDoubtByReason == [.lostAnswer: 1])
        let note = try journal.rows(cid: cid, in: .inDoubt, limit: 5).first
        #expect(note?.detail?.hasPrefix("an earlier attempt may have been delivered (lost_answer)") == true)
    }

    @Test(arguments: Store.allCases)
    func claimsStopAtTheCampaignLimitAndSkipOverMaxPrice(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(10), cost: 1_000_000_000)
        let limits = BudgetLimits(maxPrice: nil, campaignLimit: Money(nanos: 3_500_000_000), monthlyLimit: nil)
        let budget = BudgetContext(limits: limits, channel: .sms)
        let first = try step(journal, cid: cid, owner: owner, claim: 10, budget: budget)
        #expect(first.claimed.count == 3)
        #expect(first.exhausted == .campaign)
        let sent = first.claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }
        let second = try step(journal, cid: cid, owner: owner, settle: sent, claim: 10, budget: budget)
        #expect(second.claimed.isEmpty && second.exhausted == .campaign)
        let ledger = try journal.ledger(cid: cid)
        #expect(ledger.map(\.spent) == [Money(nanos: 3_000_000_000)] && ledger.map(\.reserved) == [.zero])
        let month = BillingMonth.of(milliseconds: journal.currentTime())
        #expect(try journal.monthSpend(month: month, channel: .sms, scope: .real) == Money(nanos: 3_000_000_000))
        let cheap = BudgetContext(limits: BudgetLimits(maxPrice: Money(nanos: 500_000_000)), channel: .sms)
        let skipped = try step(journal, cid: cid, owner: owner, claim: 10, budget: cheap)
        #expect(skipped.claimed.isEmpty && skipped.overMaxPrice == 7)
        #expect(try journal.counts(cid: cid).byReason == [.maxPrice: 7])
        #expect(try journal.rows(cid: cid, in: .skipped, limit: 1).first?.detail == "costs 1.000000000 USD, more than max_price")
    }

    /// Seed 10503: out of budget, a costly retry due first stopped the claim, and a free
    /// resend after it (an in-doubt row the provider dedupes, its cost counted already) was
    /// never sent: the provider had it, the journal never counted it sent.
    @Test(arguments: Store.allCases)
    func outOfBudgetAFreeResendIsClaimedPastACostlyRetry(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let first = deadOwner()
        let journal = try fixture.open()
        let cid = cid(of: try openCampaign(journal, owner: first))
        try importRows(journal, cid: cid, numbers: numbers(4), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: first, claim: 2).claimed
        #expect(claimed.map(\.row) == [2, 3])
        // Row 2 fails for now (a costly retry, due at once); row 3 stays in flight.
        let failed = Settlement(row: 2, state: .retry, reason: .throttled, notBefore: 0, countsAttempt: false).settling(claimed[0])
        _ = try step(journal, cid: cid, owner: first, settle: [failed], claim: 0)
        guard let taken = try takeOver(fixture) else { return }
        let (other, taker, inDoubt) = taken
        #expect(inDoubt == 1)
        // The provider dedupes: row 3 is due again, free (its first attempt counted as spent).
        #expect(try other.resendInDoubt(cid: cid, providerDedupes: true, attemptedBefore: nil) == 1)
        let spent = try other.ledger(cid: cid).map(\.spent)
        #expect(spent == [Money(nanos: 5_000_000)])
        let limits = BudgetLimits(maxPrice: nil, campaignLimit: Money(nanos: 5_000_000), monthlyLimit: nil)
        let tight = try step(other, cid: cid, owner: taker, claim: 10, budget: BudgetContext(limits: limits, channel: .sms))
        #expect(tight.claimed.map(\.row) == [3], "the free resend is claimed, the costly retry before it is not")
        #expect(tight.exhausted == .campaign)
        let counts = try other.counts(cid: cid)
        #expect(counts[.sending] == 1 && counts[.retry] == 1 && counts[.pending] == 2, "\(counts)")
        #expect(try other.ledger(cid: cid).map(\.reserved) == [.zero], "a free resend reserves nothing")
        #expect(try #require(other as? any MaintenanceJournal).checkCounters(cid: cid).isEmpty)
    }

    @Test(arguments: Store.allCases)
    func pauseStopsClaimsAndCancelSkipsWhatIsLeft(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(8))
        _ = try step(journal, cid: cid, owner: owner, claim: 2)
        #expect(try fixture.open().request(.pause, campaign: "spring", mode: .real))
        let paused = try step(journal, cid: cid, owner: owner, claim: 2)
        #expect(paused.control == .pause && paused.claimed.isEmpty)
        #expect(try journal.control(cid: cid) == .pause)
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        let counts = try journal.counts(cid: cid)
        #expect(counts[.skipped] == 6 && counts[.pending] == 0 && counts[.sending] == 2)
        #expect(counts.byReason == [.cancelled: 6])
        try journal.release(cid: cid, owner: owner, state: .cancelled)
        #expect(try journal.campaign(id: "spring", mode: .real)?.state == .cancelled)
        #expect(throws: JournalError.self) { try openCampaign(try fixture.open()) }
        #expect(try !fixture.open().request(.pause, campaign: "nope", mode: .real))
    }

    @Test(arguments: Store.allCases)
    func changedInputsAreRefusedOnceSendingStarted(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(3))
        _ = try step(journal, cid: cid, owner: owner, claim: 1)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        var changed = campaignInputs
        changed.recipientsSHA = "r2"
        do {
            try openCampaign(try fixture.open(), changed)
            Issue.record("a changed CSV must be refused once rows were sent")
        } catch {
            #expect((error as? JournalError)?.isInputChange == true)
        }
    }

    /// The drift this rule once had: on PostgreSQL an opted-out answer failed the row but
    /// never listed the number. On both stores it is listed in the same transaction, so
    /// the next campaign skips it without asking the provider.
    @Test(arguments: Store.allCases)
    func anOptedOutAnswerListsTheNumberForTheNextCampaign(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(3), cost: 10_000_000)
        let batch = try step(journal, cid: cid, owner: owner, claim: 3).claimed
        #expect(batch.map(\.row) == [2, 3, 4])
        let answers = [Settlement(row: 2, state: .failed, reason: .optedOut, detail: "ConflictException").settling(batch[0]),
                       Settlement(row: 3, state: .sent).settling(batch[1]),
                       Settlement(row: 4, state: .sent).settling(batch[2])]
        _ = try step(journal, cid: cid, owner: owner, settle: answers, claim: 0)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.failed] == 1 && counts.byReason == [.optedOut: 1] && counts[.sent] == 2)
        #expect(try journal.ledger(cid: cid).map(\.spent) == [Money(nanos: 20_000_000)], "the opted-out message costs nothing")
        #expect(try journal.ledger(cid: cid).map(\.reserved) == [.zero])
        try journal.release(cid: cid, owner: owner, state: .completed)

        var next = campaignInputs
        next.id = "autumn"
        let later = LeaseOwner()
        let second = try openCampaign(try fixture.open(), owner: later, next).cid
        let other = try fixture.open()
        try importRows(other, cid: second, numbers: numbers(3))
        let claimed = try step(other, cid: second, owner: later, claim: 3)
        #expect(claimed.claimed.map(\.row) == [3, 4], "the opted-out number is not asked again")
        #expect(claimed.suppressed == 1)
        let skipped = try other.rows(cid: second, in: .skipped, limit: 5)
        #expect(skipped.map(\.row) == [2] && skipped.first?.reason == .suppressed)
    }

    /// A look-up that reads one row and stops (a campaign by id, as `resume` does first)
    /// holds nothing open: another writer (the receipts writer, `herald pause`) commits in
    /// between, and the sender's next write still goes through. On SQLite a statement left
    /// on its row kept a read transaction, and the next write failed at once with "journal
    /// locked" (issue 36, finding 1).
    @Test(arguments: Store.allCases)
    func aReadThatStopsAtItsRowHoldsNothingOpen(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let sender = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(sender, owner: owner))
        try importRows(sender, cid: cid, numbers: numbers(6))
        try sender.setState(cid: cid, .running)
        #expect(try sender.campaign(id: "spring", mode: .real)?.cid == cid)
        let other = try fixture.openStore()
        try other.setReceiptSetting("base_url", "https://receipts.example.test")
        #expect(try step(sender, cid: cid, owner: owner, claim: 2).claimed.count == 2)
        #expect(try sender.campaign(id: "spring", mode: .real)?.cid == cid)
        try other.setReceiptSetting("base_url", nil)
        _ = try step(sender, cid: cid, owner: owner, settle: [Settlement(row: 2, state: .sent)], claim: 1)
        #expect(try sender.counts(cid: cid)[.sent] == 1)
    }

    /// The tables and columns a campaign owns are declared once (`ExportedTable`), and
    /// `journal copy` moves exactly those: every column of either schema's campaign tables is
    /// declared (only the sender-holding columns of one store are left out, on purpose), and
    /// every declared column exists in both. Found by the journey test: `earlier_spent` was
    /// not copied, and a row copied to PostgreSQL was spent twice.
    @Test(arguments: Store.allCases)
    func theCampaignTablesAreDeclaredOnceAndMatchTheSchema(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let columns = { (table: String) throws -> Set<String> in try schemaColumns(journal, table) }
        for table in ExportedTable.campaignTables + [ExportedTable.suppression] {
            let schema = try columns(table.name)
            let declared = Set(table.columns)
            #expect(declared.subtracting(schema).isEmpty, "\(table.name): declared but not in the \(store) schema: \(declared.subtracting(schema).sorted())")
            let undeclared = schema.subtracting(declared).subtracting(["cid"]).subtracting(ExportedTable.senderColumns)
                .subtracting(ExportedTable.identityColumns)
            #expect(undeclared.isEmpty, "\(table.name): in the \(store) schema but never copied: \(undeclared.sorted())")
            // A discard deletes from each of a campaign's tables by campaign.
            if table.name != ExportedTable.suppression.name {
                #expect(schema.contains("cid"), "\(table.name) has no cid in the \(store) schema")
            }
        }
        // What an import writes, and what a purge clears, are among the declared.
        #expect(Set(ExportedTable.importedTables).isSubset(of: ExportedTable.discardedTables))
        let message = try #require(ExportedTable.campaignTables.first { $0.name == "message" })
        #expect(Set(PurgeRule.clearedMessageColumns).isSubset(of: message.columns))
    }

    /// A CSV changed before anything was sent is imported again from scratch: the rows and
    /// every counter an import writes (the report's too) are cleared first, the same list on
    /// both stores (PostgreSQL once kept the old report counters beside the new ones).
    @Test(arguments: Store.allCases)
    func aCSVChangedBeforeSendingIsImportedAgainFromScratch(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(5), cost: 1_000_000)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        var changed = campaignInputs
        changed.recipientsSHA = "r2"
        let again = try fixture.open()
        guard case .needsImport(let same) = try openCampaign(again, owner: owner, changed) else {
            Issue.record("a CSV changed before sending is imported again")
            return
        }
        #expect(same == cid)
        try importRows(again, cid: cid, numbers: numbers(3), cost: 1_000_000)
        #expect(try again.counts(cid: cid).total == 3)
        let drift = try #require(again as? any MaintenanceJournal).checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }

    /// Both stores' migrations end in a schema that holds every column the rules read and
    /// write, and campaign records decode by name from either.
    @Test(arguments: Store.allCases)
    func bothSchemasHoldEveryColumnTheRulesRead(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let columns = { (table: String) throws -> Set<String> in try schemaColumns(journal, table) }
        #expect(Set(RuleColumns.message).subtracting(try columns("message")).isEmpty)
        #expect(Set(RuleColumns.campaign).subtracting(try columns("campaign")).isEmpty)
        #expect(Set(RuleColumns.receiptMessage).subtracting(try columns("message")).isEmpty)
        #expect(Set(RuleColumns.delivery).subtracting(try columns("delivery")).isEmpty)
        #expect(try RuleColumns.delivery.contains("state") && !columns("delivery").isEmpty)
        #expect(!(try columns("message")).isEmpty)
        let cid = try openCampaign(journal).cid
        let record = try #require(try journal.campaign(id: "spring", mode: .real))
        #expect(record.cid == cid && record.id == "spring" && record.channel == .sms && record.state == .importing)
        #expect(record.templateSHA == "t1" && record.recipientsSHA == "r1" && record.campaignPath == "/c.yaml")
    }
}

/// Journey seed 61106 (PostgreSQL): `herald cancel` while the campaign was still importing. The
/// cancel skipped the rows the import had copied, whose counters the import writes when it ends:
/// pending read -290, and the import started over. Counters stay equal to the rows through a
/// cancel at any moment of an import, and every row ends cancelled.
@Suite struct CancelDuringImportTests {
    /// Adds lines 2...20,101 to `writer`, with `herald cancel` from another connection after
    /// 20,000 of them: SQLite has committed one batch then, PostgreSQL copied two chunks.
    static func addRows(to writer: any RowImporter, cancellingFrom fixture: Fixture) throws {
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for line in 2...20_101 {
                if line == 20_002 { #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real)) }
                var row = ImportedRow(row: line, destination: 447_700_000_000 + UInt64(line), region: "GB", body: UnsafeBufferPointer(buffer))
                row.cost = 1_000
                try writer.add(row)
            }
        }
    }

    @Test(arguments: Store.allCases)
    func aCancelDuringTheImportLeavesCountersEqualToTheRows(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        guard case .needsImport(let cid) = try openCampaign(journal, owner: owner) else {
            Issue.record("a new campaign needs its rows")
            return
        }
        let writer = try journal.makeImporter(cid: cid)
        try Self.addRows(to: writer, cancellingFrom: fixture)
        try writer.finish()
        let check = try #require(journal as? any MaintenanceJournal)
        let afterImport = try check.checkCounters(cid: cid)
        #expect(afterImport.isEmpty, "after the import: \(afterImport)")
        // The sender's first step sees the cancel; it cancels what is left, as the runner does.
        #expect(try step(journal, cid: cid, owner: owner, claim: 10).control == .cancel)
        #expect(try journal.request(.cancel, campaign: "spring", mode: .real))
        try journal.release(cid: cid, owner: owner, state: .cancelled)
        let counts = try journal.counts(cid: cid)
        #expect(counts.byReason[.cancelled] == 20_100 && counts[.pending] == 0, "\(counts)")
        let afterCancel = try check.checkCounters(cid: cid)
        #expect(afterCancel.isEmpty, "after the cancel: \(afterCancel)")
        #expect(try journal.campaign(id: "spring", mode: .real)?.state == .cancelled)
    }
}

extension CancelDuringImportTests {
    /// The same cancel, then the importer dies before its import ends (its connection, and its
    /// import lock, gone): the next open is refused as cancelled and leaves the counters equal to
    /// the rows (the half import goes on PostgreSQL, whose counters it had not written).
    @Test(arguments: Store.allCases)
    func aCancelThenTheImporterDyingLeavesCountersEqualToTheRows(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        var cid: Int64 = 0
        do {
            let importer = try fixture.open()
            guard case .needsImport(let id) = try openCampaign(importer, owner: deadOwner()) else {
                Issue.record("a new campaign needs its rows")
                return
            }
            cid = id
            let writer = try importer.makeImporter(cid: cid)
            try Self.addRows(to: writer, cancellingFrom: fixture)
            writer.abandon()
        }
        if store == .postgres { Thread.sleep(forTimeInterval: 1.3) }
        let next = try fixture.open()
        #expect(throws: JournalError.self, "a cancelled campaign is refused") { try openCampaign(next) }
        let drift = try #require(next as? any MaintenanceJournal).checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
        #expect(try next.counts(cid: cid)[.pending] >= 0)
    }
}
