import HeraldCore

/// The campaign's token bucket, shared by every send in flight: each send waits for
/// its slot; a throttling answer slows everyone down.
actor RateLimiter {
    private var bucket: TokenBucket<ContinuousClock>

    init(messagesPerSecond: Double, burst: Double) {
        bucket = TokenBucket(rate: messagesPerSecond, burst: burst, now: .now)
    }

    /// Waits until `units` (SMS parts, or 1) may be sent.
    func acquire(_ units: Int) async {
        let start = bucket.reserve(units, at: .now)
        if start > .now { try? await Task.sleep(until: start, clock: .continuous) }
    }

    func throttled(retryAfter: Duration?) {
        bucket.throttled(at: .now, retryAfter: retryAfter)
    }
}
