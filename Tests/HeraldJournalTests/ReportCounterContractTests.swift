import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// The report's counters on both stores: whatever happens to a campaign (duplicates, invalid
/// rows, suppressed numbers, every kind of answer, receipts in any order, a cancel), the
/// counters equal what each store's recount of the rows says (`doctor`). SQLite's
/// `ReportCounterTests` also checks them against a report computed with SQL over every row.
@Suite struct ReportCounterContractTests {
    static let regions: [String?] = ["GB", "US", "FR", nil]

    @Test(arguments: Store.allCases, [1, 2, 3] as [UInt64])
    func countersFollowEveryChangeAndAgreeWithTheRows(_ store: Store, seed: UInt64) throws {
        guard let fixture = try Fixture(store) else { return }
        var random = SplitMix64(seed: seed)
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<400 {
                let invalid = Int.random(in: 0..<10, using: &random) == 0
                let repeated = index > 10 && Int.random(in: 0..<10, using: &random) == 0
                let number: UInt64? = invalid ? nil : 447_700_900_000 + UInt64(repeated ? Int.random(in: 0..<index, using: &random) : index)
                var row = ImportedRow(row: index + 2, destination: number, region: Self.regions[index % 4],
                                      body: UnsafeBufferPointer(buffer), skipReason: invalid ? .badNumber : nil)
                row.cost = Int64.random(in: 1...90, using: &random) * 1_000_000
                try writer.add(row)
            }
        }
        try writer.finish()
        func agree(_ stage: String) throws {
            let drift = try journal.checkCounters(cid: cid)
            #expect(drift.isEmpty, "\(stage): \(drift.prefix(5))")
        }
        try agree("after import")
        _ = try journal.suppress((0..<12).map {
            SuppressionEntry(destination: 447_700_900_000 + UInt64($0 * 17), scope: "", reason: "asked", source: .manual, addedAt: 1)
        })
        var unsettled: [ClaimedMessage] = []
        for round in 0..<12 {
            let settle = unsettled.map { message -> Settlement in
                let outcome: Settlement
                switch Int.random(in: 0..<12, using: &random) {
                case 0: outcome = Settlement(row: message.row, state: .failed, reason: .rejected, detail: "no")
                case 1: outcome = Settlement(row: message.row, state: .failed, reason: .optedOut, detail: "opted out")
                case 2: outcome = Settlement(row: message.row, state: .skipped, reason: .maxPrice, detail: "too dear")
                case 3: outcome = Settlement(row: message.row, state: .inDoubt, reason: .lostAnswer, detail: "timeout")
                case 4: outcome = Settlement(row: message.row, state: .retry, reason: .transient, notBefore: 0)
                case 5: outcome = Settlement(row: message.row, state: .retry, reason: .throttled, notBefore: 4_000_000_000_000)
                default: outcome = Settlement(row: message.row, state: .sent, providerRef: "ref-\(message.row)")
                }
                return outcome.settling(message)
            }
            unsettled = try step(journal, cid: cid, owner: owner, settle: settle, claim: round < 10 ? 25 : 0).claimed
            try agree("after round \(round)")
            // Receipts for random rows of any state, at times over nine hours (hour buckets).
            var events: [DeliveryEvent] = []
            for _ in 0..<20 {
                let row = Int.random(in: 2...401, using: &random)
                let state: DeliveryState? = [.delivered, .fallback, .undelivered, .pending, nil].randomElement(using: &random)!
                let price = Bool.random(using: &random) ? Money(nanos: Int64.random(in: 1...50, using: &random) * 1_000_000) : nil
                events.append(DeliveryEvent(
                    source: .agile, type: state?.rawValue ?? "READ", match: .row(campaign: "spring", row: row, reference: nil),
                    state: state, read: state == nil, code: state == .undelivered ? "6" : nil,
                    at: 1_780_000_000_000 + Int64.random(in: 0...(9 * 3_600_000), using: &random), price: price, raw: "{}"))
            }
            try journal.recordReceipts(events)
            try agree("after receipts of round \(round)")
        }
        let waiting = try journal.counts(cid: cid)
        #expect(waiting[.pending] > 0 && waiting[.retry] > 0, "the cancel has rows to skip")
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        try agree("after cancel")
        let report = try journal.reportAggregates(cid: cid, examplesPerReason: 0)
        #expect(report.countries.reduce(0) { $0 + $1.sent } == (try journal.counts(cid: cid))[.sent])
    }
}
