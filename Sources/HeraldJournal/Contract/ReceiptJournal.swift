import HeraldCore

/// What delivery receipts need of a journal (`herald receipts serve|import|url|prune`,
/// `worker --receipts-listen`, the simulator's receipts, the `unknown` sweep). Both
/// stores have it; what an event does is `ReceiptChanges`' rule, the same on both.
public protocol ReceiptJournal: CampaignJournal {
    /// Records `events` in one transaction: each is appended to `receipt` (the audit
    /// copy), matched to its message, and moves the message's delivery state (final
    /// states never change). An event for a row `in_doubt` (or waiting to be retried)
    /// proves the provider accepted it: the row becomes `sent` and its reservation
    /// spend. An event for a row still `sending` is kept on the row and settles it if
    /// its sender dies. `resolve` names the row for a reference the index does not know
    /// (the engine derives Agile's message ids for rows still unsettled).
    func recordReceipts(_ events: [DeliveryEvent], receivedAt: Int64?, keywords: ReplyKeywords,
                        resolve: ((String) -> (cid: Int64, row: Int)?)?) throws(JournalError) -> ReceiptBatchResult
    /// The secret in every callback URL, made on first use and kept in the journal.
    func receiptToken() throws(JournalError) -> String
    func receiptSetting(_ key: String) throws(JournalError) -> String?
    func setReceiptSetting(_ key: String, _ value: String?) throws(JournalError)
    /// Drops the raw bodies of events received before `before` (the events stay, with
    /// type, time and match). Returns how many bodies went.
    func pruneReceipts(before: Int64) throws(JournalError) -> Int
    /// Sent messages with no final event, sent before `before`, become `unknown` (as
    /// AWS reports after 72 hours). Returns how many.
    func expireDeliveries(cid: Int64, sentBefore before: Int64) throws(JournalError) -> Int
    /// Rows in `states` (of sending, in doubt, waiting to be retried: not settled as
    /// accepted) in campaigns sent for real, with their campaign id: for matching events
    /// by references derived from campaign and row (Agile's message ids).
    func unsettledRows(in states: [MessageState], limit: Int) throws(JournalError) -> [(cid: Int64, campaign: String, row: Int)]
    /// Receipt events that named no message, and recipients' replies, by provider.
    func unmatchedReceipts() throws(JournalError) -> [String: Int]
    func replyCounts() throws(JournalError) -> [String: Int]
    /// What the receipts say, from the delivery counters.
    func deliverySummary(cid: Int64) throws(JournalError) -> DeliverySummary
    /// The provider-reported cost of a campaign's messages, from its counter.
    func reportedCost(cid: Int64) throws(JournalError) -> Money?
    /// In-doubt rows last attempted at or after `since` (still inside the receipt grace).
    func inDoubtWithinGrace(cid: Int64, since: Int64) throws(JournalError) -> Int
    /// How many connections `receipts import` records through at once: a store whose
    /// transactions run side by side gains from a second (one batch is written while
    /// another commits); a store with one writer at a time does not.
    var importWriters: Int { get }
}

extension ReceiptJournal {
    public var importWriters: Int { 1 }

    /// Replaces the token: URLs with the old one answer 404 from now on.
    @discardableResult
    public func rotateReceiptToken() throws(JournalError) -> String {
        let token = ReceiptToken.make()
        try setReceiptSetting("token", token)
        return token
    }

    @discardableResult
    public func recordReceipts(_ events: [DeliveryEvent], receivedAt: Int64? = nil) throws(JournalError) -> ReceiptBatchResult {
        try recordReceipts(events, receivedAt: receivedAt, keywords: ReplyKeywords(), resolve: nil)
    }
}

/// What one batch of events did.
public struct ReceiptBatchResult: Sendable, Equatable {
    /// Events that found their message.
    public var matched = 0
    /// Events that name no message of this journal (kept, counted, never an error).
    public var unmatched = 0
    /// In-doubt (or waiting) rows an event proved accepted, now `sent`.
    public var settled = 0
    /// Replies from recipients (kept; stop and start keywords acted on).
    public var replies = 0
    /// Events whose signed message (`DeliveryEvent.envelope`) was taken before: ignored.
    public var replayed = 0

    public init() {}

    public mutating func add(_ other: ReceiptBatchResult) {
        matched += other.matched
        unmatched += other.unmatched
        settled += other.settled
        replies += other.replies
        replayed += other.replayed
    }
}

/// The signed messages a journal has taken (`receipt_envelope`): each id once, for as long
/// as a provider's signature on it is accepted (SNS: a `Timestamp` within an hour of now), so
/// a captured message replayed to a second receiver on the same journal, or to a restarted
/// one, changes nothing.
public enum ReceiptEnvelope {
    /// Milliseconds an id is kept: an hour each way of the signature's time, and a margin.
    public static let keptFor: Int64 = 3 * 3_600_000
}
