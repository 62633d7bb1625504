import HeraldCore
import HeraldJournal

import CSQLite

/// One SQLite connection with a cache of prepared statements. Not thread-safe:
/// the journal confines it to one thread at a time.
final class SQLiteDatabase {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    /// How many journal calls are running on this connection (one inside another).
    private var depth = 0

    init(path: String, readOnly: Bool) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: code, message: message, sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Turns a result code into a thrown error carrying SQLite's message.
    @discardableResult
    func check(_ code: Int32, sql: String? = nil) throws(SQLiteError) -> Int32 {
        switch code & 0xFF {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return code
        default: throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
    }

    func execute(_ sql: String) throws(SQLiteError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), sql: sql)
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil), sql: sql)
        let statement = Statement(raw!, database: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// A prepared statement owned by the caller, not cached: bindings persist
    /// between runs, so values shared by every row are bound once.
    func preparedOnce(_ sql: String) throws(SQLiteError) -> Statement {
        var raw: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil), sql: sql)
        return Statement(raw!, database: self, sql: sql)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try scoped {
            try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
            do {
                let value = try body()
                try execute("COMMIT")
                return value
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs one journal call; when the outermost call ends, every statement it left on a
    /// row is reset. A cached statement stopped at its first row (a look-up by key) keeps
    /// a read transaction open on its snapshot: this connection's next write then fails at
    /// once with SQLITE_BUSY_SNAPSHOT when another connection (the receipts writer,
    /// `herald pause`) has committed since, its reads see that old snapshot, and the WAL
    /// cannot be checkpointed past it.
    func scoped<T>(_ body: () throws -> T) rethrows -> T {
        depth += 1
        defer {
            depth -= 1
            if depth == 0 { endReads() }
        }
        return try body()
    }

    /// Resets every statement of this connection still on a row.
    private func endReads() {
        var next = sqlite3_next_stmt(handle, nil)
        while let statement = next {
            if sqlite3_stmt_busy(statement) != 0 { sqlite3_reset(statement) }
            next = sqlite3_next_stmt(handle, statement)
        }
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Resets every cached statement, so none is left mid-query (VACUUM needs that).
    func resetAll() {
        for statement in statements.values { statement.reset() }
    }
}

extension SQLiteDatabase {
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}
