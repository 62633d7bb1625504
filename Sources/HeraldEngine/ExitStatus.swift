import HeraldJournal
import HeraldSettings

/// Process exit codes, as documented in the README.
public enum ExitStatus: Int32, Sendable {
    /// Done: the campaign completed, or validate found no problem.
    case success = 0
    /// An unexpected error (a bug, or the system failing under herald).
    case failure = 1
    /// A campaign, template or CSV is invalid, a --strict run found bad rows, or
    /// the CSV/template changed under a started campaign.
    case invalidInput = 3
    /// The journal cannot be used: not a database, newer schema, locked.
    case journal = 4
    /// Another live herald process holds the campaign.
    case campaignBusy = 5
    /// Nothing more can be sent, but rows are in doubt: decide with
    /// `herald resume --resend-in-doubt` (or leave them).
    case inDoubt = 6
    /// The budget stopped the campaign: the next message would pass the campaign or
    /// monthly limit, or the provider's spend limit was reached. Raise it and resume.
    case budgetExhausted = 7
    /// Paused or cancelled by `herald pause` / `herald cancel` from another process,
    /// or refused because the campaign is paused or cancelled; or `herald run` answered no at
    /// its check before sending.
    case controlled = 8
    /// The provider refused the campaign as a whole (bad credentials, unknown
    /// origination identity): nothing more was sent; fix it and resume.
    case providerRefused = 9
    /// `herald doctor` found counters that disagree with the rows.
    case counterDrift = 10
    /// Stopped by SIGINT (Ctrl-C); resumable.
    case interrupted = 130
    /// Stopped by SIGTERM; resumable.
    case terminated = 143

    /// The exit status for an error thrown by the engine.
    public init(for error: Error) {
        switch error {
        case is InputError, is ValidationFailed: self = .invalidInput
        case let error as JournalError:
            if error.isLeaseConflict { self = .campaignBusy }
            else if error.isInputChange || error.isUnknownCampaign { self = .invalidInput }
            else if error.isControlled { self = .controlled }
            else { self = .journal }
        default: self = .failure
        }
    }

    /// The exit status for a run that returned.
    public init(for summary: RunSummary) {
        switch summary.stop {
        case .signal(let number): self = number == 15 ? .terminated : .interrupted
        case .budget: self = .budgetExhausted
        case .paused, .cancelled: self = .controlled
        case .providerRefused: self = .providerRefused
        case .limit: self = .success
        case nil: self = summary.counts[.inDoubt] > 0 ? .inDoubt : .success
        }
    }
}
