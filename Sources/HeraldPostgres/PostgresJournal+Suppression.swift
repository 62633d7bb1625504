import HeraldJournal
import PostgresNIO

/// The suppression list's commands on PostgreSQL: every sender's next claim sees what
/// they commit.
extension PostgresJournal: SuppressionJournal {
    private static let columns = SuppressionEntry.columns.joined(separator: ", ")

    /// Streams entries in batches of 10,000 into one transaction. A lost connection fails
    /// the call (nothing kept) rather than retrying: `produce` cannot be read twice.
    public func suppressAll(_ produce: (_ add: (SuppressionEntry) throws -> Void) throws -> Bool) throws(JournalError) -> Int? {
        struct Abandoned: Error {}
        do {
            return try session.transaction {
                var batch: [SuppressionEntry] = []
                var added = 0
                func flush() throws {
                    guard !batch.isEmpty else { return }
                    added += try session.query(
                        """
                        INSERT INTO suppression (\(sql: Self.columns))
                        SELECT d, s, nullif(r, ''), src, a
                            FROM unnest(\(batch.map { Int64(bitPattern: $0.destination) })::int8[],
                            \(batch.map(\.scope))::text[], \(batch.map { $0.reason ?? "" })::text[],
                            \(batch.map(\.source.rawValue))::text[], \(batch.map(\.addedAt))::int8[])
                            AS v(d, s, r, src, a)
                        ON CONFLICT DO NOTHING RETURNING 1
                        """).count
                    batch.removeAll(keepingCapacity: true)
                }
                let keep = try produce { entry in
                    batch.append(entry)
                    if batch.count >= 10_000 { try flush() }
                }
                guard keep else { throw Abandoned() }
                try flush()
                return added
            }
        } catch is Abandoned {
            return nil
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError.server(PostgresSession.describe(error), path: location)
        }
    }

    @discardableResult
    public func unsuppress(_ destinations: [UInt64], scope: String) throws(JournalError) -> Int {
        try attempt {
            try session.query(
                """
                DELETE FROM suppression
                WHERE dest = ANY(\(destinations.map { Int64(bitPattern: $0) })) AND scope = \(scope)
                RETURNING 1
                """).count
        }
    }

    public func suppression(of destination: UInt64) throws(JournalError) -> [SuppressionEntry] {
        try attempt {
            try session.query(
                """
                SELECT \(sql: Self.columns)
                FROM suppression
                WHERE dest = \(Int64(bitPattern: destination))
                ORDER BY scope
                """).map { try SuppressionEntry(row: NamedRow($0)) }
        }
    }

    public func suppressions(after: (UInt64, String)?, limit: Int) throws(JournalError) -> [SuppressionEntry] {
        try attempt {
            try session.query(
                """
                SELECT \(sql: Self.columns)
                FROM suppression
                WHERE (dest, scope) > (\(after.map { Int64(bitPattern: $0.0) } ?? Int64.min), \(after?.1 ?? ""))
                ORDER BY dest, scope LIMIT \(limit)
                """).map { try SuppressionEntry(row: NamedRow($0)) }
        }
    }

    public func suppressionCount() throws(JournalError) -> Int {
        try attempt { try session.query("SELECT count(*) FROM suppression").first?.cells.int(0) ?? 0 }
    }
}
