import CSQLite
import HeraldJournal

/// The current row of a statement, by column name, for records decoded once for both stores.
struct StatementRow: RecordRow {
    let statement: Statement
    let columns: [String: Int32]

    init(_ statement: Statement) {
        self.statement = statement
        var columns: [String: Int32] = [:]
        for index in 0..<sqlite3_column_count(statement.raw) {
            if let name = sqlite3_column_name(statement.raw, index) { columns[String(cString: name)] = index }
        }
        self.columns = columns
    }

    func int64(_ column: String) -> Int64? {
        guard let index = columns[column], !statement.isNull(index) else { return nil }
        return statement.int64(index)
    }

    func string(_ column: String) -> String? {
        columns[column].flatMap { statement.string($0) }
    }
}
