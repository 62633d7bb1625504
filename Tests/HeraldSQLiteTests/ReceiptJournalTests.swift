import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// The delivery model on a real journal: events move a sent message's delivery state,
/// final states never regress, every event is kept, counters equal the rows, and an
/// event for an in-doubt row settles it as sent (its reservation becomes spend).
@Suite struct ReceiptJournalTests {
    /// A campaign "spring" with rows 2...11 claimed; rows 2...9 sent, row 10 left in
    /// doubt (lost answer), row 11 waiting for a retry. Costs $0.50 each.
    func sentCampaign() throws -> (Journal, Int64) {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importCosted(journal, cid: cid, numbers: (1...10).map { 447700900000 + UInt64($0) }, costs: { _ in dollar / 2 })
        var cursor = ClaimCursor()
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money("100")), channel: .sms)
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 10, cursor: &cursor, budget: budget).claimed
        #expect(claimed.count == 10)
        let settle = claimed.map { message -> Settlement in
            switch message.row {
            case 10: Settlement(row: message.row, state: .inDoubt, reason: .lostAnswer).settling(message)
            case 11: Settlement(row: message.row, state: .retry, reason: .transient, notBefore: 0).settling(message)
            default: Settlement(row: message.row, state: .sent, providerRef: "ref-\(message.row)").settling(message)
            }
        }
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor, budget: budget)
        return (journal, cid)
    }

    func event(_ match: DeliveryEvent.Match, _ state: DeliveryState?, read: Bool = false, code: String? = nil,
               at: Int64 = 1_000) -> DeliveryEvent {
        DeliveryEvent(source: .agile, type: read ? "READ" : (state?.rawValue ?? "?"), match: match, state: state, read: read,
                      code: code, at: at, raw: "{}")
    }

    func count(_ journal: Journal, _ sql: String) throws -> Int {
        let statement = try journal.db.statement(sql)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int(0)
    }

    @Test func outOfOrderAndDuplicateEventsChangeNothingAfterTheFirstFinalOne() throws {
        let (journal, cid) = try sentCampaign()
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
        #expect(try count(journal, "SELECT count(*) FROM receipt") == 7, "every event is kept")
        #expect(try count(journal, "SELECT read_at FROM delivery WHERE row = 2") == 5_000)
        #expect(try count(journal, "SELECT count(*) FROM delivery_tally WHERE n < 0") == 0)
        #expect(try journal.checkCounters(cid: cid).isEmpty, "delivery counters equal the delivery rows")
        // Drift is found, and repaired.
        try journal.db.execute("UPDATE delivery_tally SET n = n + 5 WHERE state = 'delivered'")
        #expect(try journal.checkCounters(cid: cid).map(\.what) == ["delivery delivered"])
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
    }

    @Test func providerPricesAreCountedOncePerMessage() throws {
        let (journal, cid) = try sentCampaign()
        var priced = event(.reference("ref-2"), .delivered)
        priced.price = Money("0.006")
        try journal.recordReceipts([priced, priced])  // a repeated event: counted once
        priced.match = .reference("ref-3")
        try journal.recordReceipts([priced])
        #expect(try journal.reportedCost(cid: cid) == Money("0.012"))
        #expect(try journal.checkCounters(cid: cid).isEmpty, "the price counter equals the delivery rows")
    }

    @Test func eventsForUnknownMessagesAreCountedNotErrors() throws {
        let (journal, cid) = try sentCampaign()
        let result = try journal.recordReceipts([
            event(.reference("nobody"), .delivered), event(.row(campaign: "autumn", row: 2, reference: nil), .delivered),
            event(.row(campaign: "spring", row: 999, reference: nil), .delivered), event(.none, nil),
        ])
        #expect(result.matched == 0 && result.unmatched == 4)
        #expect(try journal.unmatchedReceipts() == ["agile": 4])
        #expect(try journal.deliverySummary(cid: cid).finals == 0)
        #expect(try count(journal, "SELECT count(*) FROM receipt WHERE cid IS NULL") == 4)
    }

    @Test func anEventForAnInDoubtRowSettlesItAsSentAndSpendsItsReservation() throws {
        let (journal, cid) = try sentCampaign()
        let before = try journal.ledger(cid: cid)
        #expect(before.reduce(Money.zero) { $0 + $1.reserved } == Money("0.5"))
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
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        // A second event for the same row settles nothing more.
        #expect(try journal.recordReceipts([event(.row(campaign: "spring", row: 10, reference: nil), .delivered)]).settled == 0)
    }

    @Test func resendInDoubtKeepsRowsInsideTheGraceAndSettlesAnsweredOnes() throws {
        let (journal, cid) = try sentCampaign()
        // Within the grace period: left alone.
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: journal.now() - 60_000) == 0)
        #expect(try journal.inDoubtWithinGrace(cid: cid, since: journal.now() - 60_000) == 1)
        // Past it: resent.
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: journal.now() + 1) == 1)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
    }

    @Test func unansweredMessagesExpireToUnknownAndLatencyGivesPercentiles() throws {
        let (journal, cid) = try sentCampaign()
        let sentAt = try count(journal, "SELECT updated_at FROM message WHERE row = 2")
        for row in 2...6 {
            try journal.recordReceipts([event(.row(campaign: "spring", row: row, reference: nil), .delivered,
                                              at: Int64(sentAt) + Int64(row) * 1000)])
        }
        let summary = try journal.deliverySummary(cid: cid)
        let median = try #require(summary.latencyPercentile(0.5))
        #expect(median >= 4000 && median <= 4000 * 110 / 100, "median of 2..6 s is about 4 s: \(median)")
        #expect(try journal.expireDeliveries(cid: cid, sentBefore: journal.now() + 1) == 3)
        #expect(try journal.deliverySummary(cid: cid)[.unknown] == 3)
        #expect(try journal.pruneReceipts(before: journal.now() + 1) == 5)
        #expect(try count(journal, "SELECT count(*) FROM receipt WHERE raw IS NOT NULL") == 0)
    }

    /// Values a journal may hold from an older herald (a receipt time stored as it came):
    /// the delivery summary reads them without trapping.
    @Test func extremeStoredTimesAndBucketsNeverTrapAReader() throws {
        let (journal, cid) = try sentCampaign()
        let sentAt = try count(journal, "SELECT updated_at FROM message WHERE row = 2")
        try journal.recordReceipts([event(.row(campaign: "spring", row: 2, reference: nil), .delivered, at: Int64(sentAt) + 500)])
        try journal.recordReceipts([event(.row(campaign: "spring", row: 3, reference: nil), .delivered, at: Int64.max)])
        try journal.recordReceipts([event(.row(campaign: "spring", row: 4, reference: nil), .delivered, at: Int64.min)])
        try journal.db.execute("INSERT INTO delivery_latency (cid, bucket, n) VALUES (\(cid), 503, 1), (\(cid), -7, 1), (\(cid), 9223372036854775807, 1)")
        try journal.db.execute("UPDATE delivery SET event_at = 9000000000000000000, read_at = -9223372036854775808 WHERE row = 5")
        let summary = try journal.deliverySummary(cid: cid)
        #expect(summary[.delivered] == 3)
        let p90 = try #require(summary.latencyPercentile(0.9))
        #expect(p90 > 0 && p90 <= Int64(exp2(62.0)))
        _ = try journal.reportAggregates(cid: cid)
        try journal.forEachRecipient(cid: cid) { _ in }
    }
}
