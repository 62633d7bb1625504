/// Where one recipient's message stands. Stored as its integer code.
public enum MessageState: Int, Sendable, CaseIterable, Codable {
    /// Imported, not yet claimed.
    case pending = 0
    /// Claimed by a run: a request may be on its way.
    case sending = 1
    /// The provider accepted it.
    case sent = 2
    /// The provider refused it for good, or transient failures ran out of attempts.
    case failed = 3
    /// Never sent: invalid row, duplicate destination, over MaxPrice...
    case skipped = 4
    /// To be sent again at `not_before` after a transient failure or throttling.
    case retry = 5
    /// Was `sending` when its process died: it may or may not have been delivered.
    case inDoubt = 6

    public var name: String {
        switch self {
        case .pending: "pending"
        case .sending: "sending"
        case .sent: "sent"
        case .failed: "failed"
        case .skipped: "skipped"
        case .retry: "retry"
        case .inDoubt: "in_doubt"
        }
    }
}

/// Where a campaign as a whole stands.
public enum CampaignState: String, Sendable, Codable {
    /// Rows are being imported; an import cut short is started again.
    case importing
    /// Imported, nothing claimed yet.
    case ready
    /// A process holds the lease and is sending.
    case running
    /// Stopped before the end (signal, crash, --limit); resumable.
    case stopped
    /// Every row has reached an end state, or waits only on an in-doubt decision.
    case completed
    /// The next message would pass the campaign or monthly limit (or the provider's
    /// spend limit was reached); raise the limit and resume.
    case budgetExhausted = "budget_exhausted"
    /// Registered by `herald schedule`: a worker starts it at its time.
    case scheduled
    /// Stopped by `herald pause`; `herald resume` continues it.
    case paused
    /// Stopped for good by `herald cancel`; rows not sent were skipped (`cancelled`).
    case cancelled
}

/// A request to a campaign from another process, read by whoever is sending it.
public enum CampaignControl: String, Sendable {
    case pause
    case cancel
}
