/// One step of a store's schema, by version and name. A store keeps its migrations as an
/// ordered list and applies, in one transaction, those above the version it finds.
public struct Migration<Store>: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (Store) throws -> Void

    public init(_ version: Int, _ name: String, _ apply: @escaping @Sendable (Store) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

extension Array {
    /// The schema version these migrations reach: the last one's, once checked to
    /// number 1, 2, 3... in order.
    public func schemaVersion<Store>() -> Int where Element == Migration<Store> {
        for (index, migration) in enumerated() {
            precondition(migration.version == index + 1, "migration \(migration.name) is out of order")
        }
        return last?.version ?? 0
    }

    /// The migrations a store at `version` still needs, in order.
    public func after<Store>(_ version: Int) -> [Migration<Store>] where Element == Migration<Store> {
        filter { $0.version > version }
    }
}

/// The columns the journal's rules read and write: every store's schema holds them
/// (checked by each store's tests), so a rule never meets a store that lacks its facts.
public enum RuleColumns {
    /// Facts of a claim (`ClaimCandidate`), the settlement rule's fact (`doubt`) and every
    /// column a `RowChange`, a skip, a deferral or a bulk rule writes.
    public static let message = [
        "row", "dest", "body", "attempts", "parts", "cost", "tz", "state", "reason", "detail", "doubt", "provider_ref",
        "not_before", "spend_month", "updated_at", "earlier_spent",
    ]
    /// What a campaign record is decoded from, except where a store keeps leases in a
    /// table of their own and what only one store has so far (purges).
    public static let campaign = CampaignRecord.columns.filter { !$0.hasPrefix("lease_") && $0 != "purged_at" }
    /// What the receipt rule reads of a message (`ReceiptTarget`).
    public static let receiptMessage = ReceiptTarget.columns
    /// What it reads of the message's delivery row (`DeliveryFacts`: its `state` is selected
    /// as `delivery_state`).
    public static let delivery = DeliveryFacts.columns.map { $0 == "delivery_state" ? "state" : $0 }
}
