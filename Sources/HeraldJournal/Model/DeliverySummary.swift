import Foundation
import HeraldCore

/// What the receipts say about a campaign, from counters (no row scan).
public struct DeliverySummary: Sendable, Equatable, Codable {
    public var byState: [DeliveryState: Int] = [:]
    /// Undelivered messages by the provider's code.
    public var undeliveredByCode: [String: Int] = [:]
    public var read = 0
    /// Send-to-delivery time histogram: upper bound of a bucket (ms) → messages.
    public private(set) var latency: [(upper: Int64, count: Int)] = []
    /// The provider's reported cost, where it reports one (AWS).
    public var reportedCost: Money?

    public init() {}

    public subscript(state: DeliveryState) -> Int { byState[state] ?? 0 }
    public var finals: Int { byState.filter { $0.key.isFinal }.values.reduce(0, +) }

    /// Sent messages still waiting for a final event.
    public func waiting(sent: Int) -> Int { max(0, sent - finals) }

    /// Delivered (fallback included) out of sent; nil before anything was sent or before any
    /// receipt said how a message ended (a campaign without receipts has no rate, not 0%).
    public func deliveryRate(sent: Int) -> Double? {
        sent == 0 || finals == 0 ? nil : Double(self[.delivered] + self[.fallback]) / Double(sent)
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

    /// Adds one stored delivery counter: a delivery state (undelivered ones by code), or `read`.
    public mutating func addCounter(name: String, code: String, count: Int) {
        if name == "read" {
            read &+= count
        } else if let state = DeliveryState(rawValue: name) {
            byState[state, default: 0] &+= count
            if state == .undelivered { undeliveredByCode[code.isEmpty ? "unknown" : code, default: 0] &+= count }
        }
    }

    /// Adds one stored latency counter (buckets read in ascending order).
    public mutating func addLatency(bucket: Int, count: Int) {
        latency.append((Self.latencyUpperBound(bucket: bucket), count))
    }

    /// Latency histogram buckets: eighths of a power of two of milliseconds (about 9%
    /// apart), so medians and p90s come from counters, not from sorting rows.
    public static func latencyBucket(milliseconds: Int64) -> Int {
        guard milliseconds > 1 else { return 0 }
        return min(Int((log2(Double(milliseconds)) * 8).rounded(.down)), maxLatencyBucket)
    }

    /// The last bucket: 2^62 ms. A bucket read back from a journal is clamped to the
    /// buckets there are, so a stored value from anywhere never traps a reader.
    public static let maxLatencyBucket = 8 * 62 - 1

    public static func latencyUpperBound(bucket: Int) -> Int64 {
        Int64(exp2(Double(min(max(bucket, 0), maxLatencyBucket) + 1) / 8).rounded(.up))
    }
}

