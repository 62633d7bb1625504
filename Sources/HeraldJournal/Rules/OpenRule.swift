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

    /// A campaign's `providers:` names as a journal stores them (nil for one provider).
    public static func storedRoutes(_ names: [String]) -> String? { names.isEmpty ? nil : names.joined(separator: ",") }

    /// What a changed `providers:` list means for a campaign whose rows record their provider
    /// by its place in the list: nil when every row still finds its own provider where it was
    /// (the same list, providers added at the end, or the last ones removed: a row whose
    /// provider is gone stops the run, exit 9), else the change (the list reordered, or a
    /// provider renamed or replaced), which the campaign is refused for once it has started
    /// sending, as a changed template is, and imported again for before.
    public static func routeChange(stored: String?, now names: [String]) -> String? {
        guard let stored, !stored.isEmpty, !names.isEmpty else { return nil }
        let before = stored.split(separator: ",").map(String.init)
        guard zip(before, names).contains(where: { $0 != $1 }) else { return nil }
        return "list of providers: (\(before.joined(separator: ", ")) when it started, \(names.joined(separator: ", ")) now; "
            + "each row records its provider's place in the list, so keep the order and add new providers at the end)"
    }
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
