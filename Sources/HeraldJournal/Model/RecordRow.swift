import HeraldCore

/// A row a store read, by column name: each record is decoded once, here, for both
/// stores (as GRDB's `FetchableRecord.init(row:)` does). A column the row lacks reads
/// as NULL.
public protocol RecordRow {
    func int64(_ column: String) throws -> Int64?
    func string(_ column: String) throws -> String?
}

extension CampaignRecord {
    /// The columns `init(row:)` reads; a store selects them under these names.
    public static let columns = [
        "cid", "id", "mode", "campaign_path", "template_sha", "recipients_sha", "channel", "state", "total_rows", "created_at",
        "updated_at", "lease_pid", "lease_host", "lease_heartbeat", "ledger_scope", "max_price", "campaign_limit",
        "monthly_limit", "stop_reason", "control", "scheduled_at", "sender", "stop_kind", "purged_at",
    ]

    /// Decodes a campaign by column name. Unknown enum values read as the safe default (a
    /// journal written by a newer herald still opens) and numbers out of `Int`'s range never trap.
    public init(row: some RecordRow) throws {
        func money(_ column: String) throws -> Money? { try row.int64(column).map { Money(nanos: $0) } }
        func int(_ column: String) throws -> Int? { try row.int64(column).flatMap { Int(exactly: $0) } }
        self.init(
            cid: try row.int64("cid") ?? 0, id: try row.string("id") ?? "",
            mode: RunMode(rawValue: try row.string("mode") ?? "") ?? .real,
            campaignPath: try row.string("campaign_path") ?? "", templateSHA: try row.string("template_sha") ?? "",
            recipientsSHA: try row.string("recipients_sha") ?? "",
            channel: Channel(rawValue: try row.string("channel") ?? "") ?? .sms,
            state: CampaignState(rawValue: try row.string("state") ?? "") ?? .stopped,
            totalRows: try int("total_rows") ?? 0, createdAt: try row.int64("created_at") ?? 0,
            updatedAt: try row.int64("updated_at") ?? 0, leasePID: try int("lease_pid"), leaseHost: try row.string("lease_host"),
            leaseHeartbeat: try row.int64("lease_heartbeat"),
            ledgerScope: LedgerScope(rawValue: try row.string("ledger_scope") ?? "") ?? .real,
            limits: BudgetLimits(maxPrice: try money("max_price"), campaignLimit: try money("campaign_limit"),
                                 monthlyLimit: try money("monthly_limit")),
            stopReason: try row.string("stop_reason"), control: try row.string("control").flatMap(CampaignControl.init),
            scheduledAt: try row.int64("scheduled_at"), sender: Sender(rawValue: try row.string("sender") ?? "") ?? .run,
            stopKind: try row.string("stop_kind").flatMap(StopKind.init), purgedAt: try row.int64("purged_at"))
    }
}

extension ReceiptTarget {
    /// The message columns `init(row:)` reads; the delivery row's are `DeliveryFacts.columns`.
    public static let columns = ["cid", "row", "state", "reason", "cost", "spend_month", "updated_at", "doubt", "earlier_spent", "region"]

    /// Decodes a message a receipt is about, with its delivery facts when the row holds
    /// them. Nil for a state this herald does not know (never settled by a receipt); a row
    /// number out of `Int`'s range reads as nil too, never a trap.
    public init?(row: some RecordRow) throws {
        guard let state = try row.int64("state").flatMap({ Int(exactly: $0) }).flatMap(MessageState.init(rawValue:)),
              let number = try row.int64("row").flatMap({ Int(exactly: $0) }) else { return nil }
        self.init(cid: try row.int64("cid") ?? 0, row: number, state: state, reason: try row.string("reason"),
                  cost: try row.int64("cost") ?? 0, spendMonth: try row.int64("spend_month").flatMap { Int(exactly: $0) },
                  attemptAt: try row.int64("updated_at") ?? 0, doubt: try row.string("doubt"),
                  earlierSpent: try row.int64("earlier_spent").map { $0 != 0 } ?? false, region: try row.string("region"),
                  delivery: try DeliveryFacts(row: row))
    }
}

extension DeliveryFacts {
    /// The delivery row's columns `init(row:)` reads, named apart from the message's.
    public static let columns = ["delivery_state", "read_at", "sent_at", "code", "price", "event_at"]

    /// What receipts said so far of a message; nil when it has no delivery row yet.
    public init?(row: some RecordRow) throws {
        guard let state = try row.string("delivery_state") else { return nil }
        self.init(state: DeliveryState(rawValue: state), read: try row.int64("read_at") != nil, sentAt: try row.int64("sent_at"),
                  code: try row.string("code"), price: try row.int64("price"), eventAt: try row.int64("event_at"))
    }
}
