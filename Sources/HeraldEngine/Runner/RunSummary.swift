import Foundation
import HeraldCore
import HeraldJournal

/// Progress of a run, for the progress line.
public struct RunProgress: Sendable {
    public enum Phase: Sendable { case importing, sending, waiting }
    public var phase: Phase
    /// Rows in an end state (sent, failed, skipped), or rows imported while importing.
    public var done: Int
    public var total: Int
    /// Messages sent per second in this run.
    public var rate: Double
    /// Seconds left at the current rate, when known.
    public var secondsLeft: Double?
    /// The campaign's spend so far (reserved included; the would-be cost of a dry run) and its
    /// campaign_limit; nil before sending.
    public var spent: Money?
    public var limit: Money?
    public var dryRun = false
    /// Rows waiting for their recipients' send window, and when the next window opens.
    public var waitingForWindow = 0
    public var windowOpens: Date?
    /// The send window's local opening time (`08:00`); nil without a window.
    public var windowStart: String?
    /// When the campaign should finish: the rows that may go now at the campaign's rate, then
    /// the rows waiting for a window from when it opens; nil when not known.
    public var finishesAt: Date?

    public init(phase: Phase, done: Int, total: Int, rate: Double, secondsLeft: Double? = nil) {
        self.phase = phase
        self.done = done
        self.total = total
        self.rate = rate
        self.secondsLeft = secondsLeft
    }
}

/// How a run ended.
public struct RunSummary: Sendable {
    public let campaign: String
    public let state: CampaignState
    public let counts: CampaignCounts
    public let sentThisRun: Int
    public let elapsedSeconds: Double
    public let stop: StopReason?
    /// Rows imported by this run (0 when the campaign was already in the journal).
    public let imported: Int
    /// Seconds spent importing (0 when nothing was imported).
    public let importSeconds: Double
    /// Spend of the campaign so far (the would-be cost for a dry run), reservations included.
    public let spent: Money
    /// The first rows that failed (CSV line and reason).
    public let failedRows: [RowNote]
    public let dryRun: Bool
    /// Rows found in doubt when the run started (their last process died mid-send).
    public let recoveredInDoubt: Int
    /// Whether in-doubt rows were resent (provider dedupes, or --resend-in-doubt).
    public let resentInDoubt: Bool
}
