import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// The delivery model on both stores: events move a sent message's delivery state, final
/// states never regress, prices count once, unknown messages are counted, an event for an
/// in-doubt row settles it as sent, unanswered messages expire, and counters equal the rows
/// (moved here from the SQLite-only tests).
@Suite struct DeliveryContractTests {
    /// A campaign "spring" with rows 2...11 claimed at the clock's time; rows 2...9 sent,
    /// row 10 left in doubt (lost answer), row 11 waiting for a retry. Costs $0.50 each.
    func sentCampaign(_ fixture: Fixture) throws -> (journal: any Fixture.Capabilities, cid: Int64, clock: Clock) {
        let journal = try fixture.openStore()
        let clock = try settableClock(journal)
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<10 {
                var row = ImportedRow(row: index + 2, destination: 447_700_900_001 + UInt64(index), region: "GB",
                                      body: UnsafeBufferPointer(buffer))
                row.cost = 500_000_000
                try writer.add(row)
            }
        }
        try writer.finish()
        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money("100")), channel: .sms)
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor, budget: budget, gate: nil,
                                       sender: "", rate: nil).claimed
        #expect(claimed.count == 10)
        let settle = claimed.map { message -> Settlement in
            switch message.row {
            case 10: Settlement(row: message.row, state: .inDoubt, reason: .lostAnswer).settling(message)
            case 11: Settlement(row: message.row, state: .retry, reason: .transient, notBefore: 0).settling(message)
            default: Settlement(row: message.row, state: .sent, providerRef: "ref-\(message.row)").settling(message)
            }
        }
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor, budget: budget, gate: nil,
                             sender: "", rate: nil)
        return (journal, cid, clock)
    }

    func event(_ match: DeliveryEvent.Match, _ state: DeliveryState?, read: Bool = false, code: String? = nil,
               at: Int64 = 1_000) -> DeliveryEvent {
        DeliveryEvent(source: .agile, type: read ? "READ" : (state?.rawValue ?? "?"), match: match, state: state, read: read,
                      code: code, at: at, raw: "{}")
    }

    func expectNoDrift(_ journal: any Fixture.Capabilities, _ cid: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)", sourceLocation: sourceLocation)
    }

    @Test(arguments: Store.allCases)
    func outOfOrderAndDuplicateEventsChangeNothingAfterTheFirstFinalOne(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, _) = try sentCampaign(fixture)
        let row2 = DeliveryEvent.Match.reference("ref-2")
        // READ before DELIVERY, then the DELIVERY, a duplicate, and a late queued.
        try journal.recordReceipts([event(row2, nil, read: true, at: 5_000)])
        try journal.recordReceipts([event(row2, .delivered, at: 4_000), event(row2, .delivered, at: 4_000)])
        try journal.recordReceipts([event(row2, .pending, at: 1_000)])
        // Undelivered first, then a delivered that must not overturn it.
        let row3 = DeliveryEvent.Match.row(campaign: "spring", row: 3, reference: nil)
        try journal.recordReceipts([event(row3, .pending), event(row3, .undelivered, code: "6"), event(row3, .delivered)])
        let summary = try journal.deliverySummary(cid: cid)
        #expect(summary[.delivered] == 1 && summary[.undelivered] == 1 && summary[.pending] == 0)
        #expect(summary.read == 1 && summary.undeliveredByCode == ["6": 1])
        #expect(summary.waiting(sent: try journal.counts(cid: cid)[.sent]) == 6)
        try expectNoDrift(journal, cid)
    }

    @Test(arguments: Store.allCases)
    func providerPricesAreCountedOncePerMessage(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, _) = try sentCampaign(fixture)
        var priced = event(.reference("ref-2"), .delivered)
        priced.price = Money("0.006")
        try journal.recordReceipts([priced, priced])  // a repeated event: counted once
        priced.match = .reference("ref-3")
        try journal.recordReceipts([priced])
        #expect(try journal.reportedCost(cid: cid) == Money("0.012"))
        try expectNoDrift(journal, cid)
    }

    @Test(arguments: Store.allCases)
    func eventsForUnknownMessagesAreCountedNotErrors(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, _) = try sentCampaign(fixture)
        let result = try journal.recordReceipts([
            event(.reference("nobody"), .delivered), event(.row(campaign: "autumn", row: 2, reference: nil), .delivered),
            event(.row(campaign: "spring", row: 999, reference: nil), .delivered), event(.none, nil),
        ])
        #expect(result.matched == 0 && result.unmatched == 4)
        #expect(try journal.unmatchedReceipts() == ["agile": 4])
        #expect(try journal.deliverySummary(cid: cid).finals == 0)
    }

    @Test(arguments: Store.allCases)
    func anEventForAnInDoubtRowSettlesItAsSentAndSpendsItsReservation(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, _) = try sentCampaign(fixture)
        #expect(try journal.ledger(cid: cid).reduce(Money.zero) { $0 + $1.reserved } == Money("0.5"))
        let result = try journal.recordReceipts([
            event(.row(campaign: "spring", row: 10, reference: nil), .delivered),
            event(.row(campaign: "spring", row: 11, reference: nil), .pending),
        ])
        #expect(result.settled == 2)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.sent] == 10 && counts[.inDoubt] == 0 && counts[.retry] == 0)
        let after = try journal.ledger(cid: cid)
        #expect(after.reduce(Money.zero) { $0 + $1.reserved } == .zero)
        #expect(after.reduce(Money.zero) { $0 + $1.spent } == Money("5.00"))
        try expectNoDrift(journal, cid)
        // A second event for the same row settles nothing more.
        #expect(try journal.recordReceipts([event(.row(campaign: "spring", row: 10, reference: nil), .delivered)]).settled == 0)
    }

    @Test(arguments: Store.allCases)
    func resendInDoubtKeepsRowsInsideTheGrace(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, clock) = try sentCampaign(fixture)
        // Within the grace period: left alone.
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: clock.time - 60_000) == 0)
        #expect(try journal.inDoubtWithinGrace(cid: cid, since: clock.time - 60_000) == 1)
        // Past it: resent.
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: clock.time + 1) == 1)
        try expectNoDrift(journal, cid)
    }

    @Test(arguments: Store.allCases)
    func unansweredMessagesExpireToUnknownAndLatencyGivesPercentiles(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let (journal, cid, clock) = try sentCampaign(fixture)
        let sentAt = clock.time  // the rows were settled at the clock's time
        for row in 2...6 {
            try journal.recordReceipts([event(.row(campaign: "spring", row: row, reference: nil), .delivered,
                                              at: sentAt + Int64(row) * 1000)])
        }
        let summary = try journal.deliverySummary(cid: cid)
        let median = try #require(summary.latencyPercentile(0.5))
        #expect(median >= 4000 && median <= 4000 * 110 / 100, "median of 2..6 s is about 4 s: \(median)")
        #expect(try journal.expireDeliveries(cid: cid, sentBefore: clock.time + 1) == 3)
        #expect(try journal.deliverySummary(cid: cid)[.unknown] == 3)
        #expect(try journal.pruneReceipts(before: Int64.max) == 5)
        try expectNoDrift(journal, cid)
    }
}
