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
                        INSERT INTO suppression (\(Self.columns))
                        SELECT d, s, nullif(r, ''), src, a FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[])
                            AS v(d, s, r, src, a)
                        ON CONFLICT DO NOTHING RETURNING 1
                        """, binds {
                            $0.append(batch.map { Int64(bitPattern: $0.destination) }); $0.append(batch.map(\.scope))
                            $0.append(batch.map { $0.reason ?? "" }); $0.append(batch.map(\.source.rawValue)); $0.append(batch.map(\.addedAt))
                        }).count
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
            try session.query("DELETE FROM suppression WHERE dest = ANY($1) AND scope = $2 RETURNING 1",
                              binds { $0.append(destinations.map { Int64(bitPattern: $0) }); $0.append(scope) }).count
        }
    }

    public func suppression(of destination: UInt64) throws(JournalError) -> [SuppressionEntry] {
        try attempt {
            try session.query("SELECT \(Self.columns) FROM suppression WHERE dest = $1 ORDER BY scope",
                              binds { $0.append(Int64(bitPattern: destination)) }).map { try SuppressionEntry(row: NamedRow($0)) }
        }
    }

    public func suppressions(after: (UInt64, String)?, limit: Int) throws(JournalError) -> [SuppressionEntry] {
        try attempt {
            try session.query(
                "SELECT \(Self.columns) FROM suppression WHERE (dest, scope) > ($1, $2) ORDER BY dest, scope LIMIT $3",
                binds {
                    $0.append(after.map { Int64(bitPattern: $0.0) } ?? Int64.min); $0.append(after?.1 ?? ""); $0.append(limit)
                }).map { try SuppressionEntry(row: NamedRow($0)) }
        }
    }

    public func suppressionCount() throws(JournalError) -> Int {
        try attempt { try session.query("SELECT count(*) FROM suppression").first?.cells.int(0) ?? 0 }
    }
}
