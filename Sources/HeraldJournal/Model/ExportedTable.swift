import HeraldCore

/// A table of a campaign as `herald journal copy` moves it: its name and the columns
/// both journals share (the campaign's id column, `cid`, is implied).
public struct ExportedTable: Sendable {
    public let name: String
    public let columns: [String]

    public init(_ name: String, _ columns: [String]) {
        self.name = name
        self.columns = columns
    }

    /// Every table that holds a campaign's progress, spend and receipts.
    public static let campaignTables: [ExportedTable] = [
        ExportedTable("message", ["row", "dest", "region", "body", "parts", "cost", "tz", "state", "reason", "detail", "doubt",
                                  "attempts", "not_before", "provider_ref", "spend_month", "updated_at", "earlier_spent", "route", "sender",
                                  "language"]),
        ExportedTable("tally", ["state", "reason", "n"]),
        ExportedTable("ledger", ["month", "channel", "reserved", "spent"]),
        ExportedTable("run", ["mode", "pid", "host", "started_at", "ended_at", "outcome", "sent"]),
        ExportedTable("delivery", ["row", "state", "code", "detail", "sent_at", "event_at", "read_at", "price"]),
        ExportedTable("delivery_tally", ["state", "code", "n"]),
        ExportedTable("delivery_latency", ["bucket", "n"]),
        ExportedTable("receipt", ["received_at", "provider", "type", "ref", "row", "raw"]),
        ExportedTable("report_minute", ["minute", "sent", "delivered"]),
        ExportedTable("report_country", ["region", "sent", "delivered", "spent", "estimated", "reported", "priced"]),
        ExportedTable("route_switch", ["row", "at", "from_route", "to_route", "reason", "spent"]),
        ExportedTable.senderMemory,
    ]

    /// The identities the campaign's recipients were last sent from (sticky sender): a store
    /// keeps one per number and provider, so a copy keeps the later of two.
    public static let senderMemory = ExportedTable("sender_memory", ["dest", "provider", "identity", "at"])

    /// The tables a discarded campaign (a dry run, started afresh each time) leaves, besides
    /// the campaign's own row and a store's own sender tables: the same list `journal copy`
    /// moves, so neither store can keep a table the other clears.
    public static var discardedTables: [String] { campaignTables.map(\.name) }

    /// The tables an import writes (the rows and their counters): what importing a campaign
    /// again, or giving up its import, clears first, on both stores.
    public static let importedTables = ["message", "tally", "report_minute", "report_country"]

    /// Columns of a campaign's tables that say which sender holds a row right now, in one
    /// store only (PostgreSQL's lease epoch and claim step): never copied, a copied row is
    /// held by nobody.
    public static let senderColumns: Set<String> = ["owner", "claim_seq"]

    /// Row ids each journal numbers itself (a run's, a receipt's): never copied.
    public static let identityColumns: Set<String> = ["rid", "eid"]

    /// The suppression list (the journal's, not a campaign's).
    public static let suppression = ExportedTable("suppression", ["dest", "scope", "reason", "source", "added_at"])
}

/// A journal that can hand over one campaign, table by table, for `herald journal copy`.
public protocol CampaignExporting {
    /// Each row of the campaign's tables (and, with `suppression`, the suppression list),
    /// its values as text (nil for NULL), read in one consistent snapshot. Refuses a
    /// campaign in flight.
    func export(_ record: CampaignRecord, tables: [ExportedTable], suppression: Bool,
                row: (ExportedTable, [String?]) throws -> Void) throws(JournalError)
    /// The `providers:` names the campaign was opened with, as stored (`OpenRule.storedRoutes`):
    /// a copy keeps refusing a reordered list as the original does.
    func exportedRoutes(_ record: CampaignRecord) throws(JournalError) -> String?
}
