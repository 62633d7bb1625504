import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// SQLite only: delivery values edited or stored by hand (counters, an older herald's
/// extreme times). The delivery model itself runs on both stores (`DeliveryContractTests`).
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

    /// Drift made by editing the delivery counters by hand is found and repaired (every other
    /// delivery test runs on both stores: `DeliveryContractTests`).
    @Test func handEditedDeliveryCountersAreFoundAndRepaired() throws {
        let (journal, cid) = try sentCampaign()
        try journal.recordReceipts([event(.reference("ref-2"), .delivered)])
        #expect(try count(journal, "SELECT count(*) FROM receipt") == 1, "every event is kept")
        try journal.db.execute("UPDATE delivery_tally SET n = n + 5 WHERE state = 'delivered'")
        #expect(try journal.checkCounters(cid: cid).map(\.what) == ["delivery delivered"])
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
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
