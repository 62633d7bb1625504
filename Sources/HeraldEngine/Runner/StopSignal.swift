import HeraldJournal
import HeraldCore
import Synchronization

/// Why a run stopped before the end.
public enum StopReason: Sendable, Equatable {
    /// SIGINT or SIGTERM (the signal number).
    case signal(Int32)
    /// `--limit` sends were made.
    case limit
    /// The next message would pass a budget limit (or the provider's spend limit
    /// was reached, with its message).
    case budget(BudgetLimitKind, String?)
    /// `herald pause` or `herald cancel` from another process.
    case paused
    case cancelled
    /// The provider refused the campaign as a whole (credentials, origination identity).
    case providerRefused(String)

    /// The kind the journal records (a worker resumes only what a signal stopped).
    public var kind: StopKind {
        switch self {
        case .signal: .signal
        case .limit: .limit
        case .budget: .budget
        case .paused: .paused
        case .cancelled: .cancelled
        case .providerRefused: .providerRefused
        }
    }
}

/// Set from outside a run (a signal handler) to ask it to stop: no new claims,
/// in-flight sends finish and are settled.
public final class StopSignal: Sendable {
    private let reason = Mutex<StopReason?>(nil)

    public init() {}

    public func request(_ why: StopReason) {
        reason.withLock { if $0 == nil { $0 = why } }
    }

    public var requested: StopReason? { reason.withLock { $0 } }
}
