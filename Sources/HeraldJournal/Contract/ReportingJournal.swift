import HeraldCore

/// What a report reads of a journal (`herald report`, the dashboard's `/campaigns/ID`):
/// counters only, whatever the row count, plus one streamed pass in file order for the
/// per-recipient CSV. Both stores have it.
public protocol ReportingJournal: CampaignJournal {
    /// What the receipts say, from the delivery counters.
    func deliverySummary(cid: Int64) throws(JournalError) -> DeliverySummary
    /// The timeline, countries and example lines, from the report counters.
    func reportAggregates(cid: Int64, examplesPerReason: Int) throws(JournalError) -> ReportAggregates
    /// When the campaign's runs started and ended (first start, last end).
    func runSpan(cid: Int64) throws(JournalError) -> (start: Int64?, end: Int64?)
    /// Every row of a campaign in file order, handed to `line` one at a time (constant
    /// memory). Throws the journal's errors, or what `line` threw.
    func forEachRecipient(cid: Int64, _ line: (RecipientLine) throws -> Void) throws
}

/// One recipient line of `herald report --csv`.
public struct RecipientLine: Sendable {
    public var row: Int
    public var destination: UInt64?
    public var region: String?
    public var state: MessageState
    public var reason: String?
    public var detail: String?
    public var parts: Int
    public var cost: Int64
    public var updatedAt: Int64
    public var delivery: String?
    public var deliveredAt: Int64?
    public var readAt: Int64?
    public var providerRef: String?
    /// The provider it went through (its index in the campaign's `providers:` list).
    public var route = 0
    /// The template variant's language (`language:`); nil without.
    public var language: String?

    public init(row: Int, destination: UInt64?, region: String?, state: MessageState, reason: String?, detail: String?, parts: Int,
                cost: Int64, updatedAt: Int64, delivery: String?, deliveredAt: Int64?, readAt: Int64?, providerRef: String?) {
        self.row = row
        self.destination = destination
        self.region = region
        self.state = state
        self.reason = reason
        self.detail = detail
        self.parts = parts
        self.cost = cost
        self.updatedAt = updatedAt
        self.delivery = delivery
        self.deliveredAt = deliveredAt
        self.readAt = readAt
        self.providerRef = providerRef
    }
}
