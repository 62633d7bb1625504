import HeraldCore
import HeraldJournal

import CSQLite

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement. Bind by 1-based index, step, read columns by 0-based index.
final class Statement {
    let raw: OpaquePointer
    unowned let database: SQLiteDatabase
    let sql: String

    init(_ raw: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    @discardableResult
    func bind(_ index: Int32, _ value: Int64?) -> Statement {
        if let value { sqlite3_bind_int64(raw, index, value) } else { sqlite3_bind_null(raw, index) }
        return self
    }

    @discardableResult
    func bind(_ index: Int32, _ value: Int?) -> Statement { bind(index, value.map(Int64.init)) }

    @discardableResult
    func bind(_ index: Int32, _ value: String?) -> Statement {
        guard var value else {
            sqlite3_bind_null(raw, index)
            return self
        }
        // The string's own UTF-8 (SQLite copies it): no NUL-terminated copy made first.
        value.withUTF8 { bytes in
            sqlite3_bind_text(raw, index, UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self), Int32(bytes.count), SQLITE_TRANSIENT)
        }
        return self
    }

    /// Binds UTF-8 bytes as text without copying them: the bytes must stay valid and
    /// unchanged until the statement has run (`run()` runs it at once).
    @discardableResult
    func bind(_ index: Int32, utf8 bytes: UnsafeBufferPointer<UInt8>) -> Statement {
        sqlite3_bind_text(raw, index, UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
        return self
    }

    /// Steps once: true when a row is available.
    func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(raw)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        sqlite3_reset(raw)
        throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(database.handle)), sql: sql)
    }

    /// Runs a statement that returns no rows.
    func run() throws(SQLiteError) {
        while try step() {}
        sqlite3_reset(raw)
    }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(raw, column)) }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }
    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(raw, column) else { return nil }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}
