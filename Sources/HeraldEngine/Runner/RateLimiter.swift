import HeraldCore

/// The campaign's rate in one process, shared by every send in flight: each send waits
/// for its slot; a throttling answer slows everyone down. The rule is `Pacing`'s: slots a
/// little under the rate, a slot missed by more than `Pacing.lateness` forfeited (once per
/// send, so a machine that is always late still sends), and the last second's sends as the
/// hard stop.
actor RateLimiter {
    private var bucket: TokenBucket<ContinuousClock>
    private var log: SendLog<ContinuousClock>

    init(messagesPerSecond: Double, burst: Double) {
        let pacing = Pacing(rate: messagesPerSecond, burst: burst)
        bucket = TokenBucket(rate: pacing.pacedRate, burst: pacing.burst, now: .now)
        log = SendLog(limit: pacing.windowLimit)
    }

    /// Waits until `units` (SMS parts, or 1) may be sent.
    func acquire(_ units: Int) async {
        var forfeited = false
        while true {
            let slot = bucket.reserve(units, at: .now)
            if slot > .now { try? await Task.sleep(until: slot, clock: .continuous) }
            if forfeited || Pacing.onTime(slot.duration(to: .now)) { break }
            forfeited = true
        }
        while true {
            let now = ContinuousClock.now
            let earliest = log.earliest(units, at: now)
            if earliest <= now {
                log.record(units, at: now)
                return
            }
            try? await Task.sleep(until: earliest, clock: .continuous)
        }
    }

    func throttled(retryAfter: Duration?) {
        bucket.throttled(at: .now, retryAfter: retryAfter)
    }
}
