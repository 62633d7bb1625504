import HeraldCore
import HeraldJournal

/// The campaign's rate in one process, shared by every send in flight: each send waits
/// for its slot; a throttling answer slows everyone down. The rule is `Pacing`'s (slots a
/// little under the rate), kept by two buckets of the same rate and burst: `schedule` hands
/// out slots ahead, so waiting senders sleep until their own instant instead of all waking
/// at once; `left`, the rule itself, counts what has really gone and is asked again at the
/// moment of sending. A sender late for its slot (a stall, a busy core) finds `left` refilled
/// to at most `burst`, so a crowd of late senders goes out at the rate, never all at once.
actor RateLimiter {
    private var schedule: TokenBucket<ContinuousClock>
    private var left: TokenBucket<ContinuousClock>

    init(messagesPerSecond: Double, burst: Double) {
        let pacing = Pacing(rate: messagesPerSecond, burst: burst)
        schedule = TokenBucket(rate: pacing.pacedRate, burst: pacing.burst, now: .now)
        left = schedule
    }

    /// Waits until `units` (SMS parts, or 1) may be sent.
    func acquire(_ units: Int) async {
        let slot = schedule.reserve(units, at: .now)
        if slot > .now { try? await Task.sleep(until: slot, clock: .continuous) }
        while let later = left.take(units, at: .now) {
            try? await Task.sleep(until: later, clock: .continuous)
        }
    }

    func throttled(retryAfter: Duration?) {
        schedule.throttled(at: .now, retryAfter: retryAfter)
        left.throttled(at: .now, retryAfter: retryAfter)
    }
}

/// The campaign's sender pools as the dispatcher sends from them: which identity a claimed
/// row goes from (recorded on it by the claim, `SenderChoice`), and, where this process alone
/// paces them (SQLite), one limiter per identity with a rate. On a shared journal the claim's
/// slots already hold each identity's rate (`due`).
struct SenderLimiters: Sendable {
    let scopes: SenderScopes
    private let limiters: [String: RateLimiter]

    init(_ scopes: SenderScopes, inProcess: Bool) {
        self.scopes = scopes
        var limiters: [String: RateLimiter] = [:]
        if inProcess {
            for identity in scopes.pools.flatMap({ $0?.identities ?? [] }) {
                guard let rate = identity.messagesPerSecond, limiters[identity.key] == nil else { continue }
                limiters[identity.key] = RateLimiter(messagesPerSecond: rate, burst: identity.burst)
            }
        }
        self.limiters = limiters
    }

    func identity(of claimed: ClaimedMessage) -> SenderPool.Identity? {
        guard let sender = claimed.sender, let pool = scopes.pool(route: claimed.route),
              pool.identities.indices.contains(sender) else { return nil }
        return pool.identities[sender]
    }

    func limiter(_ identity: SenderPool.Identity) -> RateLimiter? { limiters[identity.key] }

    /// The batch in the order its rows may go: by their slot (`due`) where the journal gave
    /// them one, else by when each identity's rate lets its next row go, counted from the
    /// batch's start. Sent in claim order, a slow identity's rows held the sends in flight
    /// while they waited, and the faster identities idled.
    func paced(_ batch: [ClaimedMessage], countsParts: Bool) -> [ClaimedMessage] {
        guard scopes.hasPools, batch.count > 1 else { return batch }
        if batch.allSatisfy({ $0.due != nil }) {
            return batch.enumerated().sorted { ($0.element.due!, $0.offset) < ($1.element.due!, $1.offset) }.map(\.element)
        }
        var clock: [String: Double] = [:]
        let keyed = batch.enumerated().map { offset, message -> (at: Double, offset: Int, message: ClaimedMessage) in
            guard let identity = identity(of: message), let rate = identity.messagesPerSecond else { return (0, offset, message) }
            let at = clock[identity.key, default: 0]
            clock[identity.key] = at + Double(countsParts ? max(1, message.parts) : 1) / rate
            return (at, offset, message)
        }
        return keyed.sorted { ($0.at, $0.offset) < ($1.at, $1.offset) }.map(\.message)
    }
}
