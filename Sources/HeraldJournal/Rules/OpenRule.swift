import HeraldCore

/// What opening a campaign again decides from what the journal holds, the same on both
/// stores: whether it is refused, and whether the stop reason of an earlier run is kept.
/// (Leases, imports and takeovers are each store's own: one holder at a time on SQLite,
/// several senders with expiring leases on PostgreSQL.)
public enum OpenRule {
    /// The control word an open is refused with, or nil when the campaign may be opened:
    /// a purged campaign has lost its numbers; a cancelled one is final; a paused one opens
    /// only for an explicit run or resume (`unpause`), never for a worker picking it up. A
    /// completed campaign has nothing left for a control to act on: a cancel or pause that
    /// came after its sender claimed the last row (and never saw it) changes nothing.
    public static func refusal(purged: Bool, state: CampaignState, control: CampaignControl?, unpause: Bool) -> String? {
        if purged { return "purged" }
        if state == .completed { return nil }
        if state == .cancelled || control == .cancel { return CampaignControl.cancel.rawValue }
        if let control, !unpause { return control.rawValue }
        return nil
    }

    /// Whether the campaign keeps the stop reason (and its kind) an earlier run recorded: only
    /// while other senders are at it (a shared journal, the campaign `running`), since the
    /// reason is theirs to clear. Otherwise the new run starts without one and records its own.
    public static func keepsStopReason(state: CampaignState, shared: Bool) -> Bool { shared && state == .running }
}

/// The state a sender leaving a campaign records. A cancel it never saw (requested after its
/// send loop last looked, while it still held the campaign) wins over any state but
/// completed: it skipped the rows it could (journey seed 60164: the campaign read
/// `budget_exhausted` while every resume was refused as cancelled).
public enum ReleaseRule {
    public static func state(leaving state: CampaignState, control: CampaignControl?) -> CampaignState {
        control == .cancel && state != .completed ? .cancelled : state
    }
}
