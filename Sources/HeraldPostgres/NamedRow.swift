import HeraldJournal
import PostgresNIO

/// A PostgreSQL row by column name, for records decoded once for both stores. A column
/// the query did not select reads as NULL.
struct NamedRow: RecordRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = PostgresRandomAccessRow(row) }

    func int64(_ column: String) throws -> Int64? {
        guard row.contains(column) else { return nil }
        return try row[column].decode(Int64?.self)
    }

    func string(_ column: String) throws -> String? {
        guard row.contains(column) else { return nil }
        return try row[column].decode(String?.self)
    }
}
