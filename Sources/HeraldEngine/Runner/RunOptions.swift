import HeraldJournal

/// How `herald run` / `herald resume` should behave.
public struct RunOptions: Sendable {
    /// Refuse to start when any row has a problem, instead of skipping such rows.
    public var strict = false
    /// Send through the built-in simulator whatever the campaign's provider.
    public var simulate = false
    /// Stop after claiming this many messages in this run.
    public var limit: Int?
    /// Send rows left in doubt again even though the provider cannot dedupe them.
    public var resendInDoubt = false
    /// `--receipt-grace`: in-doubt rows attempted more recently than this are not resent
    /// by `--resend-in-doubt` (their receipt may still come).
    public var receiptGrace: Duration = .seconds(15 * 60)
    /// Send with the provider's dry-run switch: validated, nothing delivered, recorded
    /// apart from the campaign's real progress and spend, started afresh each time.
    public var dryRun = false
    /// Continue a paused campaign (an explicit run or resume); a worker does not.
    public var unpause = true
    /// Sent by `herald worker`: a stop by signal is noted as the worker's, so the next
    /// worker resumes it (a person's Ctrl-C on a foreground run is left alone).
    public var byWorker = false
    /// Import and register the campaign for a worker, at this time (ms), sending nothing.
    public var scheduleAt: Int64?
    /// Only continue a campaign already in the journal (`herald resume`).
    public var mustExist = false

    public init() {}

    /// Which monthly ledger a run's spend counts in: simulations and dry runs never
    /// share a budget with real sends.
    public func ledgerScope(for spec: CampaignSpec) -> LedgerScope {
        if dryRun { return .dryRun }
        return spec.isSimulated || simulate ? .simulated : .real
    }

    /// The progress a run continues: a simulation of a real provider's campaign keeps
    /// its own, so rehearsing never marks real recipients as sent.
    public func mode(for spec: CampaignSpec) -> RunMode {
        if dryRun { return .dryRun }
        return simulate && !spec.isSimulated ? .simulation : .real
    }
}
