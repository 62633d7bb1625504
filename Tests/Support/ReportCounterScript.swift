import HeraldCore
import HeraldJournal

/// One random history of a campaign "spring" for the report counters' tests on both stores
/// (`ReportCounterContractTests`) and SQLite's second oracle (`ReportCounterTests`): an
/// import with invalid and repeated numbers over four regions, suppressed numbers, twelve
/// rounds of every kind of answer, receipts in any order over nine hours, and a cancel.
/// `check` runs after each change, named by stage.
public struct ReportCounterScript {
    public static let regions: [String?] = ["GB", "US", "FR", nil]

    /// Imports `rows` rows (lines 2...rows+1) with `writer`, drawing from `random`.
    public static func importRows(_ writer: any RowImporter, rows: Int, random: inout SplitMix64) throws {
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<rows {
                let invalid = Int.random(in: 0..<10, using: &random) == 0
                let repeated = index > 10 && Int.random(in: 0..<10, using: &random) == 0
                let number: UInt64? = invalid ? nil : 447_700_900_000 + UInt64(repeated ? Int.random(in: 0..<index, using: &random) : index)
                var row = ImportedRow(row: index + 2, destination: number, region: regions[index % 4],
                                      body: UnsafeBufferPointer(buffer), skipReason: invalid ? .badNumber : nil)
                row.cost = Int64.random(in: 1...90, using: &random) * 1_000_000
                try writer.add(row)
            }
        }
        _ = try writer.finish()
    }

    /// The rest of the history, on a campaign of 400 imported rows opened by `owner`.
    public static func run(_ journal: some CampaignJournal & SuppressionJournal & ReceiptJournal, cid: Int64, owner: LeaseOwner,
                           random: inout SplitMix64, check: (String) throws -> Void) throws {
        try check("after import")
        _ = try journal.suppress((0..<12).map {
            SuppressionEntry(destination: 447_700_900_000 + UInt64($0 * 17), scope: "", reason: "asked", source: .manual, addedAt: 1)
        })
        var cursor = ClaimCursor()
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
            unsettled = try journal.step(cid: cid, owner: owner, settle: settle, claim: round < 10 ? 25 : 0, cursor: &cursor,
                                         budget: nil, gate: nil, sender: "", rate: nil).claimed
            try check("after round \(round)")
            // Receipts for random rows of any state, at times over nine hours (hour buckets).
            var events: [DeliveryEvent] = []
            for _ in 0..<20 {
                let row = Int.random(in: 2...401, using: &random)
                let states: [DeliveryState?] = [.delivered, .fallback, .undelivered, .pending, nil]
                let state = states[Int.random(in: 0..<states.count, using: &random)]
                let price = Bool.random(using: &random) ? Money(nanos: Int64.random(in: 1...50, using: &random) * 1_000_000) : nil
                events.append(DeliveryEvent(
                    source: ReceiptSource("agile"), type: state?.rawValue ?? "READ", match: .row(campaign: "spring", row: row, reference: nil),
                    state: state, read: state == nil, code: state == .undelivered ? "6" : nil,
                    at: 1_780_000_000_000 + Int64.random(in: 0...(9 * 3_600_000), using: &random), price: price, raw: "{}"))
            }
            try journal.recordReceipts(events)
            try check("after receipts of round \(round)")
        }
        let waiting = try journal.counts(cid: cid)
        guard waiting[.pending] > 0 && waiting[.retry] > 0 else {
            throw ScriptError("the cancel has no rows to skip: \(waiting)")
        }
        guard try journal.request(.cancel, campaign: "spring", mode: .real) else { throw ScriptError("the cancel was refused") }
        try check("after cancel")
    }

    public struct ScriptError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
