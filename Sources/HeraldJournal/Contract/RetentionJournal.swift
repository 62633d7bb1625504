/// What `herald purge` and `retention_days` ask of a journal: a finished campaign's numbers,
/// bodies, time zones, provider ids and the raw bodies of its receipts removed for good, its
/// counts, reasons and spend kept.
public protocol RetentionJournal: CampaignJournal {
    /// The rows purged, or nil when the campaign has not finished (`PurgeRule`). With
    /// `vacuum`, the store also reclaims the space the old values took.
    func purge(cid: Int64, vacuum: Bool) throws(JournalError) -> Int?
}

/// Which campaigns may be purged: those that can send nothing more.
public enum PurgeRule {
    public static func allows(_ state: CampaignState?) -> Bool {
        state == .completed || state == .cancelled
    }

    /// The message columns a purge clears: what names a person or their message. State,
    /// reason, parts, cost and country stay, so the counters, ledger and reports stay true.
    public static let clearedMessageColumns = ["dest", "body", "tz", "provider_ref"]
    /// `SET dest = NULL, body = NULL, ...` for both stores' statements.
    public static var clearing: String { clearedMessageColumns.map { "\($0) = NULL" }.joined(separator: ", ") }
}
