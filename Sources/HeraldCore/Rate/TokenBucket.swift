/// A token bucket that hands out send slots: `rate` units a second, up to `burst`
/// at once after a quiet spell. Units are SMS parts (a 3-part message takes 3) or
/// messages for other channels. Over any one-second window it admits at most
/// `rate + burst` units.
///
/// Slots are reserved, not polled: `reserve` takes the units at once and says when
/// the send may go, so concurrent senders queue in order. A provider's Retry-After
/// becomes a debt of tokens, so the slots after the pause are spaced at the rate instead
/// of all falling on its end. Throttling answers slow
/// the bucket down (multiplicative decrease, to 70%) and it recovers gradually (additive
/// increase) up to the configured rate. Generic over `Clock`, so tests drive it
/// with a manual clock instead of sleeping.
public struct TokenBucket<C: Clock>: Sendable where C.Duration == Duration {
    public let configuredRate: Double
    public let burst: Double
    /// The rate in force now: the configured one, or lower after throttling.
    public private(set) var rate: Double
    /// Units available now; negative when slots are reserved ahead.
    private var tokens: Double
    private var last: C.Instant
    /// Multiplicative decrease on throttling (0.7, as botocore's adaptive retry mode).
    public var decrease = 0.85
    /// Additive recovery: this share of the configured rate comes back per second.
    public var recoveryPerSecond = 0.05
    /// Throttling answers within this long of a decrease are the same congestion
    /// (the requests were already in flight): they do not halve the rate again.
    public var decreaseSpacing: Duration = .milliseconds(500)
    private var lastDecrease: C.Instant?
    /// Never slower than this share of the configured rate.
    public var floor = 0.05

    public init(rate: Double, burst: Double, now: C.Instant) {
        precondition(rate > 0, "rate must be positive")
        configuredRate = rate
        self.burst = max(burst, 0)
        self.rate = rate
        tokens = max(burst, 0)
        last = now
    }

    /// Reserves `units` and returns when they may be sent: `now` or later.
    public mutating func reserve(_ units: Int, at now: C.Instant) -> C.Instant {
        refill(to: now)
        tokens -= Double(units)
        guard tokens < 0 else { return now }
        return now.advanced(by: .seconds(-tokens / rate))
    }

    /// Takes `units` if the bucket holds them now, and returns nil; else takes nothing and
    /// returns when it will hold them. Never goes into debt: a crowd of senders late for
    /// their slots (a stall) finds at most `burst` waiting for them (or one send's units, when
    /// the burst is smaller), so the time they missed is dropped instead of caught up.
    public mutating func take(_ units: Int, at now: C.Instant) -> C.Instant? {
        let wanted = Double(units)
        // Room for one send at least, however small the burst (0, or under a long SMS's parts).
        refill(to: now, capacity: max(burst, wanted))
        // A hair of slack: a send exactly on its reserved slot finds the tokens refilled to
        // within rounding.
        if tokens >= wanted - 1e-9 {
            tokens -= wanted
            return nil
        }
        return now.advanced(by: .seconds((wanted - tokens) / rate))
    }

    /// A throttling answer: cut the rate by `decrease` (not below the floor, at most once per
    /// `decreaseSpacing`), start over with an empty bucket, and hand out no new slot before
    /// `retryAfter` when the provider said so.
    public mutating func throttled(at now: C.Instant, retryAfter: Duration? = nil) {
        refill(to: now)
        if lastDecrease.map({ $0.duration(to: now) >= decreaseSpacing }) ?? true {
            rate = max(configuredRate * floor, rate * decrease)
            tokens = min(tokens, 0)
            lastDecrease = now
        }
        if let retryAfter, retryAfter > .zero {
            tokens = min(tokens, -retryAfter.seconds * rate)
        }
    }

    private mutating func refill(to now: C.Instant, capacity: Double? = nil) {
        guard now > last else { return }
        let elapsed = last.duration(to: now)
        let seconds = elapsed.seconds
        // Recovery first, at the rate of the time that passed.
        if rate < configuredRate {
            rate = min(configuredRate, rate + configuredRate * recoveryPerSecond * seconds)
        }
        tokens = min(capacity ?? burst, tokens + seconds * rate)
        last = now
    }
}
