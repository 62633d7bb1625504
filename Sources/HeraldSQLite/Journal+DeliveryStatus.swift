import HeraldCore
import HeraldJournal

/// What the receipts say about a campaign, from counters (no row scan).
public struct DeliverySummary: Sendable, Equatable, Codable {
    public var byState: [DeliveryState: Int] = [:]
    /// Undelivered messages by the provider's code.
    public var undeliveredByCode: [String: Int] = [:]
    public var read = 0
    /// Send-to-delivery time histogram: upper bound of a bucket (ms) → messages.
    public internal(set) var latency: [(upper: Int64, count: Int)] = []
    /// The provider's reported cost, where it reports one (AWS).
    public var reportedCost: Money?

    public init() {}

    public subscript(state: DeliveryState) -> Int { byState[state] ?? 0 }
    public var finals: Int { byState.filter { $0.key.isFinal }.values.reduce(0, +) }

    /// Sent messages still waiting for a final event.
    public func waiting(sent: Int) -> Int { max(0, sent - finals) }

    /// Delivered (fallback included) out of sent.
    public func deliveryRate(sent: Int) -> Double? {
        sent == 0 ? nil : Double(self[.delivered] + self[.fallback]) / Double(sent)
    }

    /// The time from send to delivery under which `fraction` of delivered messages
    /// fall, in milliseconds: a bucket's upper bound (buckets are ~9% wide).
    public func latencyPercentile(_ fraction: Double) -> Int64? {
        let total = latency.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        let rank = Int((Double(total) * fraction).rounded(.up))
        var seen = 0
        for bucket in latency {
            seen += bucket.count
            if seen >= max(rank, 1) { return bucket.upper }
        }
        return latency.last?.upper
    }

    public static func == (lhs: DeliverySummary, rhs: DeliverySummary) -> Bool {
        lhs.byState == rhs.byState && lhs.undeliveredByCode == rhs.undeliveredByCode && lhs.read == rhs.read
            && lhs.latency.elementsEqual(rhs.latency) { $0.upper == $1.upper && $0.count == $1.count }
            && lhs.reportedCost == rhs.reportedCost
    }

    enum CodingKeys: String, CodingKey { case byState, undeliveredByCode, read, reportedCost }
}

extension Journal {
    public func deliverySummary(cid: Int64) throws(JournalError) -> DeliverySummary {
        try read {
            var summary = DeliverySummary()
            let counts = try db.statement("SELECT state, code, n FROM delivery_tally WHERE cid = ?1 AND n != 0")
            counts.bind(1, cid)
            while try counts.step() {
                let name = counts.string(0) ?? "", code = counts.string(1) ?? "", count = counts.int(2)
                if name == "read" {
                    summary.read += count
                } else if let state = DeliveryState(rawValue: name) {
                    summary.byState[state, default: 0] += count
                    if state == .undelivered { summary.undeliveredByCode[code.isEmpty ? "unknown" : code, default: 0] += count }
                }
            }
            counts.reset()
            let latency = try db.statement("SELECT bucket, n FROM delivery_latency WHERE cid = ?1 AND n != 0 ORDER BY bucket")
            latency.bind(1, cid)
            while try latency.step() {
                summary.latency.append((Self.latencyUpperBound(bucket: latency.int(0)), latency.int(1)))
            }
            latency.reset()
            return summary
        }
    }

    /// Events no message matched, by provider (kept in `receipt` with no row).
    public func unmatchedReceipts() throws(JournalError) -> [String: Int] {
        try read {
            let statement = try db.statement("SELECT code, n FROM delivery_tally WHERE cid = 0 AND state = 'unmatched' AND n != 0")
            var counts: [String: Int] = [:]
            while try statement.step() { counts[statement.string(0) ?? "", default: 0] += statement.int(1) }
            statement.reset()
            return counts
        }
    }

    /// The provider-reported cost of a campaign's messages (AWS `totalMessagePrice`), from
    /// its counter.
    public func reportedCost(cid: Int64) throws(JournalError) -> Money? {
        try read {
            let statement = try db.statement("SELECT n FROM delivery_tally WHERE cid = ?1 AND state = 'price' AND code = ''")
            statement.bind(1, cid)
            defer { statement.reset() }
            guard try statement.step(), statement.int64(0) != 0 else { return nil }
            return Money(nanos: statement.int64(0))
        }
    }
}
