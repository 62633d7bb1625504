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
}
