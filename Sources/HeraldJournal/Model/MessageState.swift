import Foundation
import HeraldCore
/// Where one recipient's message stands. Stored as its integer code; Stores take the
/// code from here, never from a literal.
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
    /// An attempt's outcome is unknown (its process died while sending it, or the
    /// answer was lost) and nothing since proved it delivered or not.
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

    /// The states whose counters are kept per reason (the others count as one).
    public var countsReasons: Bool { self == .retry || self == .failed || self == .skipped || self == .inDoubt }
}

/// How a campaign's rows are sent: for real, through the simulator in place of the
/// campaign's provider (`--simulate`), or validated by the provider without delivery
/// (`--dry-run`). Each mode keeps its own progress under the same campaign id.
public enum RunMode: String, Sendable, CaseIterable, Codable {
    case real
    case simulation
    case dryRun = "dry_run"
}

/// Who holds (or last held) a campaign's lease: a foreground `herald run` / `resume`,
/// or `herald worker`, which resumes only what a worker was sending.
public enum Sender: String, Sendable, Codable {
    case run
    case worker
}

/// Why a run ended before every row did.
public enum StopKind: String, Sendable, Codable {
    case signal
    case limit
    case budget
    case paused
    case cancelled
    case providerRefused = "provider_refused"
}

/// Which monthly ledger a campaign's spend counts in: simulated and dry-run spend
/// never eats into a real monthly limit.
public enum LedgerScope: String, Sendable, Codable {
    case real
    case simulated
    case dryRun = "dry-run"
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

/// A campaign as commands name it: its id, and for a simulation or a dry run the
/// mode after an `@` (`welcome@simulation`, `welcome@dry-run`). Only the command
/// line uses this spelling; the journal keeps id and mode in two columns.
public struct CampaignKey: Sendable, Hashable, CustomStringConvertible {
    public var id: String
    public var mode: RunMode

    public init(id: String, mode: RunMode = .real) {
        self.id = id
        self.mode = mode
    }

    public init(parsing text: String) {
        for (suffix, mode) in [("@simulation", RunMode.simulation), ("@dry-run", .dryRun)] where text.hasSuffix(suffix) {
            self.init(id: String(text.dropLast(suffix.count)), mode: mode)
            return
        }
        self.init(id: text)
    }

    public var description: String {
        switch mode {
        case .real: id
        case .simulation: "\(id)@simulation"
        case .dryRun: "\(id)@dry-run"
        }
    }
}

extension CampaignRecord {
    public var key: CampaignKey { CampaignKey(id: id, mode: mode) }
}
