/// How a campaign's `messages_per_second` and `burst` become send slots, one rule for the
/// in-memory bucket of a single process and for the journal's bucket shared by several.
///
/// The promise: no one-second window at the provider holds more than rate + burst units.
/// A slot handed out is an instant; what reaches the provider moves from it by two things,
/// the sender's own lateness (a stall, a slow commit, a busy core) and the network's jitter.
/// Slots are therefore handed out `margin` under the rate. In one process, what really
/// leaves is counted by a second bucket at the moment of sending (`RateLimiter`), so lateness
/// never adds up. Across processes (slots from a shared journal) a send may leave at most
/// `lateness` after its slot: later, the slot is forfeited. Either way the missed time is
/// dropped, never caught up, and over a window of one second the provider sees at most
/// `margin × rate × (1 + lateness + jitter) + burst ≤ rate + burst` units.
public struct Pacing: Sendable, Equatable {
    /// The configured rate, units a second.
    public let rate: Double
    /// Units that may go at once on top of the rate after a quiet spell.
    public let burst: Double

    /// Slots are handed out at this share of the configured rate.
    public static let margin = 0.99
    /// How late after its slot a send may still leave.
    public static let lateness: Duration = .milliseconds(6)
    /// The arrival jitter (network, scheduling after the check) the margin leaves room for.
    public static let jitter: Duration = .milliseconds(4)

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(0, burst)
    }

    /// The rate slots are handed out at.
    public var pacedRate: Double { rate * Self.margin }

    /// Whether a send that is about to leave at `late` after its slot still may.
    public static func onTime(_ late: Duration) -> Bool { late <= lateness }

}

extension Duration {
    /// This duration in seconds, as a `Double`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
