/// The suppression list's commands (`herald suppress add|remove|import|export|list|check|sync`):
/// a capability both stores have. Claims read the list in their own transaction; this edits it.
public protocol SuppressionJournal: AnyObject {
    /// Milliseconds since 1970 by the journal's clock.
    func currentTime() -> Int64
    /// Adds the entries `produce` hands over, in one transaction, without holding them in
    /// memory; `produce` returns false to abandon (nothing is kept). Returns how many
    /// were new (a number already listed for a scope keeps its first entry), or nil when abandoned.
    func suppressAll(_ produce: (_ add: (SuppressionEntry) throws -> Void) throws -> Bool) throws(JournalError) -> Int?
    /// Removes numbers from one scope ("" for the list that applies to every sender).
    @discardableResult
    func unsuppress(_ destinations: [UInt64], scope: String) throws(JournalError) -> Int
    /// Every entry for one number, in any scope.
    func suppression(of destination: UInt64) throws(JournalError) -> [SuppressionEntry]
    /// Entries in number order, a page at a time: those after `after` (number, scope).
    func suppressions(after: (UInt64, String)?, limit: Int) throws(JournalError) -> [SuppressionEntry]
    func suppressionCount() throws(JournalError) -> Int
}

extension SuppressionJournal {
    /// Adds numbers (each with its scope). Returns how many were new.
    @discardableResult
    public func suppress(_ entries: [SuppressionEntry]) throws(JournalError) -> Int {
        try suppressAll { add in
            for entry in entries { try add(entry) }
            return true
        } ?? 0
    }

    /// The first entries, in number order.
    public func suppressions(limit: Int) throws(JournalError) -> [SuppressionEntry] {
        try suppressions(after: nil, limit: limit)
    }

    /// Removes numbers from the list that applies to every sender.
    @discardableResult
    public func unsuppress(_ destinations: [UInt64]) throws(JournalError) -> Int {
        try unsuppress(destinations, scope: "")
    }
}

extension SuppressionEntry {
    /// The columns `init(row:)` reads; a store selects them under these names.
    public static let columns = ["dest", "scope", "reason", "source", "added_at"]

    /// Decodes an entry by column name; an unknown source reads as `manual`.
    public init(row: some RecordRow) throws {
        self.init(destination: UInt64(bitPattern: try row.int64("dest") ?? 0), scope: try row.string("scope") ?? "",
                  reason: try row.string("reason"),
                  source: SuppressionSource(rawValue: try row.string("source") ?? "") ?? .manual,
                  addedAt: try row.int64("added_at") ?? 0)
    }
}
