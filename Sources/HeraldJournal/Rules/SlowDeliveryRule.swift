import HeraldCore

/// When a provider counts as slow to deliver, as GOV.UK Notify measures it: of the messages it
/// took in the last `window`, at least `share` were not delivered within `deliveredWithin` (their
/// first final receipt came later, or has not come and that long has passed). A slow provider
/// is demoted, unless every provider measured is slow (then none is better).
public struct SlowDeliveryPolicy: Sendable, Equatable {
    public var window: Int64
    public var deliveredWithin: Int64
    public var share: Double
    /// Messages of a provider whose fate is known (delivered, or older than `deliveredWithin`)
    /// needed to judge it.
    public var minimum: Int

    public init(window: Int64 = 15 * 60_000, deliveredWithin: Int64 = 5 * 60_000, share: Double = 0.15, minimum: Int = 20) {
        self.window = window
        self.deliveredWithin = deliveredWithin
        self.share = share
        self.minimum = minimum
    }
}

/// One accepted message of a sample: when its provider took it and when its first final receipt
/// arrived (nil: none yet).
public struct DeliverySample: Sendable, Equatable {
    public let sentAt: Int64
    public let finalAt: Int64?

    public init(sentAt: Int64, finalAt: Int64?) {
        self.sentAt = sentAt
        self.finalAt = finalAt
    }
}

public enum SlowDeliveryRule {
    /// A provider's measure: its judged messages and the slow ones among them.
    public struct Measure: Sendable, Equatable {
        public let judged: Int
        public let slow: Int
        public var ratio: Double { judged == 0 ? 0 : Double(slow) / Double(judged) }
    }

    /// The measure of one provider's samples at `now`, counting only messages of the window
    /// whose fate is known.
    public static func measure(_ samples: [DeliverySample], at now: Int64, policy: SlowDeliveryPolicy) -> Measure {
        var judged = 0, slow = 0
        for sample in samples where sample.sentAt >= now - policy.window {
            if let final = sample.finalAt {
                judged += 1
                if final - sample.sentAt >= policy.deliveredWithin { slow += 1 }
            } else if now - sample.sentAt >= policy.deliveredWithin {
                judged += 1
                slow += 1
            }
        }
        return Measure(judged: judged, slow: slow)
    }

    /// The providers to demote, by index, each with why: those slow by the policy, when at least
    /// two providers could be judged and not all of them are slow. A provider that has had no
    /// final receipt at all in the window is not judged (its receipts may not be set up).
    public static func slow(_ samples: [Int: [DeliverySample]], at now: Int64, policy: SlowDeliveryPolicy) -> [Int: String] {
        var measures: [Int: Measure] = [:]
        for (route, list) in samples where list.contains(where: { $0.finalAt != nil && $0.sentAt >= now - policy.window }) {
            let measure = Self.measure(list, at: now, policy: policy)
            if measure.judged >= policy.minimum { measures[route] = measure }
        }
        guard measures.count >= 2 else { return [:] }
        let slow = measures.filter { $0.value.ratio >= policy.share }
        guard slow.count < measures.count else { return [:] }
        return slow.mapValues {
            "slow deliveries: \($0.slow) of \($0.judged) messages taken in the last \(policy.window / 60_000) min "
                + "were not delivered within \(Self.seconds(policy.deliveredWithin))"
        }
    }

    static func seconds(_ milliseconds: Int64) -> String {
        milliseconds % 60_000 == 0 ? "\(milliseconds / 60_000) min" : "\(milliseconds / 1_000) s"
    }
}
