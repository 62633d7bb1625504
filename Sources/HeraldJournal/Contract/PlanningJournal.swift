import HeraldCore

/// What `validate` and `estimate` read of a journal: a campaign's progress and spend,
/// the month's spend and the suppression list. Both stores have it, so a plan made
/// against a PostgreSQL journal counts what it has sent and listed, as on SQLite.
public protocol PlanningJournal: AnyObject {
    /// Milliseconds since 1970 by the journal's clock.
    func currentTime() -> Int64
    func campaign(id: String, mode: RunMode) throws(JournalError) -> CampaignRecord?
    func progress(cid: Int64) throws(JournalError) -> JournalProgress
    /// Reserved plus spent by one campaign, and by its scope this month in a channel.
    func spendSoFar(cid: Int64, channel: Channel) throws(JournalError) -> (campaign: Money, month: Money)
    /// Spent and reserved in `month` on `channel` by every campaign of `scope`.
    func monthSpend(month: Int, channel: Channel, scope: LedgerScope) throws(JournalError) -> Money
    /// Whether a number is listed for every sender or for `scope`; nil when nothing is listed.
    func suppressionChecker(scope: String) throws(JournalError) -> ((UInt64) -> Bool)?
    /// Who already reached `cap` from the other campaigns of `scope` (read-only).
    func frequencyChecker(campaign id: String, scope: LedgerScope, cap: FrequencyCap) throws(JournalError) -> (UInt64) -> Bool
    /// The numbers remembered as last sent from one of `identities` (keys; sticky sender,
    /// `SenderMemory`): among `numbers` (`preview`), or all of them, in one read (`estimate`).
    func rememberedSenders(identities: [String], among numbers: [UInt64]?) throws(JournalError) -> SenderRecall
}
