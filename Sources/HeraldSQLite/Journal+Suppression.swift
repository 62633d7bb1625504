import HeraldCore
import HeraldJournal

/// The suppression list as a claim sees it: a Bloom filter of every listed number, so
/// that the rows of a campaign whose numbers are not listed (nearly all) cost no
/// lookup; a listed-looking number is checked exactly. Rebuilt when the list changes.
final class SuppressionCheck {
    let version: Int64
    let filter: DestinationFilter

    init(version: Int64, filter: DestinationFilter) {
        self.version = version
        self.filter = filter
    }
}

extension Journal {
    static let suppressionColumns = SuppressionEntry.columns.joined(separator: ", ")

    /// Adds the entries `produce` hands over, in one transaction, without holding them in
    /// memory; `produce` returns false to abandon (nothing is kept). Returns how many
    /// were new, or nil when abandoned.
    public func suppressAll(_ produce: (_ add: (SuppressionEntry) throws -> Void) throws -> Bool) throws(JournalError) -> Int? {
        struct Abandoned: Error {}
        do {
            return try db.transaction {
                var added = 0
                let insert = try db.statement(
                    "INSERT OR IGNORE INTO suppression (\(Self.suppressionColumns)) VALUES (?1, ?2, ?3, ?4, ?5)")
                let keep = try produce { entry in
                    insert.bind(1, Int64(bitPattern: entry.destination)).bind(2, entry.scope).bind(3, entry.reason)
                        .bind(4, entry.source.rawValue).bind(5, entry.addedAt)
                    try insert.run()
                    added += db.changes
                }
                guard keep else { throw Abandoned() }
                if added > 0 { try bumpSuppressionVersion() }
                return added
            }
        } catch is Abandoned {
            return nil
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// Removes numbers from one scope ("" for the list that applies to every sender).
    @discardableResult
    public func unsuppress(_ destinations: [UInt64], scope: String) throws(JournalError) -> Int {
        try write {
            let delete = try db.statement("DELETE FROM suppression WHERE dest = ?1 AND scope = ?2")
            var removed = 0
            for destination in destinations {
                delete.bind(1, Int64(bitPattern: destination)).bind(2, scope)
                try delete.run()
                removed += db.changes
            }
            if removed > 0 { try bumpSuppressionVersion() }
            return removed
        }
    }

    /// Every entry for one number, in any scope.
    public func suppression(of destination: UInt64) throws(JournalError) -> [SuppressionEntry] {
        try read {
            let select = try db.statement("SELECT \(Self.suppressionColumns) FROM suppression WHERE dest = ?1 ORDER BY scope")
            select.bind(1, Int64(bitPattern: destination))
            var entries: [SuppressionEntry] = []
            while try select.step() { entries.append(try Self.suppressionEntry(select)) }
            select.reset()
            return entries
        }
    }

    /// Entries in number order, a page at a time: those after `after` (number, scope).
    public func suppressions(after: (UInt64, String)?, limit: Int) throws(JournalError) -> [SuppressionEntry] {
        try read {
            let select = try db.statement(
                """
                SELECT \(Self.suppressionColumns) FROM suppression WHERE (dest, scope) > (?1, ?2)
                ORDER BY dest, scope LIMIT ?3
                """)
            select.bind(1, after.map { Int64(bitPattern: $0.0) } ?? Int64.min).bind(2, after?.1 ?? "").bind(3, limit)
            var entries: [SuppressionEntry] = []
            while try select.step() { entries.append(try Self.suppressionEntry(select)) }
            select.reset()
            return entries
        }
    }

    public func suppressionCount() throws(JournalError) -> Int {
        try read {
            let count = try db.statement("SELECT count(*) FROM suppression")
            defer { count.reset() }
            _ = try count.step()
            return count.int(0)
        }
    }

    private static func suppressionEntry(_ s: Statement) throws -> SuppressionEntry {
        try SuppressionEntry(row: StatementRow(s))
    }

    /// A row's recipient joins the list (for every sender), in the transaction that
    /// records why: the provider said they opted out, or a receipt called the number
    /// invalid. Returns whether the list changed (its version is bumped then).
    @discardableResult
    func suppressRecipient(cid: Int64, row: Int, reason: String, source: SuppressionSource, time: Int64) throws -> Bool {
        let insert = try db.statement(
            """
            INSERT OR IGNORE INTO suppression (\(Self.suppressionColumns))
            SELECT dest, '', ?3, ?4, ?5 FROM message WHERE cid = ?1 AND row = ?2 AND dest IS NOT NULL
            """)
        insert.bind(1, cid).bind(2, row).bind(3, reason).bind(4, source.rawValue).bind(5, time)
        try insert.run()
        guard db.changes > 0 else { return false }
        try bumpSuppressionVersion()
        return true
    }

    func bumpSuppressionVersion() throws {
        try db.execute("UPDATE journal_meta SET value = value + 1 WHERE key = 'suppression_version'")
    }

    /// The list as claims check it, rebuilt only when it changed; nil when it is empty.
    func currentSuppression() throws -> SuppressionCheck? {
        let version = try db.statement("SELECT value FROM journal_meta WHERE key = 'suppression_version'")
        _ = try version.step()
        let now = version.int64(0)
        version.reset()
        if let cached = suppressionCache, cached.version == now { return cached.check }
        let count = try db.statement("SELECT count(*) FROM suppression")
        _ = try count.step()
        let total = count.int(0)
        count.reset()
        guard total > 0 else {
            suppressionCache = (now, nil)
            return nil
        }
        var filter = DestinationFilter(expected: total, maxBytes: 16 << 20)
        let all = try db.statement("SELECT dest FROM suppression")
        while try all.step() { _ = filter.insert(UInt64(bitPattern: all.int64(0))) }
        all.reset()
        let check = SuppressionCheck(version: now, filter: filter)
        suppressionCache = (now, check)
        return check
    }

    /// Whether a number is listed for every sender or for `scope`.
    func isSuppressed(_ destination: UInt64, scope: String, check: SuppressionCheck) throws -> Bool {
        guard check.filter.mayContain(destination) else { return false }
        let exact = try db.statement("SELECT EXISTS (SELECT 1 FROM suppression WHERE dest = ?1 AND scope IN ('', ?2))")
        exact.bind(1, Int64(bitPattern: destination)).bind(2, scope)
        defer { exact.reset() }
        _ = try exact.step()
        return exact.int(0) != 0
    }

    /// A checker for offline commands (`validate`, `estimate`): nil when nothing is listed.
    public func suppressionChecker(scope: String) throws(JournalError) -> ((UInt64) -> Bool)? {
        try read {
            guard let check = try currentSuppression() else { return nil }
            return { [self] destination in (try? self.isSuppressed(destination, scope: scope, check: check)) ?? false }
        }
    }
}
