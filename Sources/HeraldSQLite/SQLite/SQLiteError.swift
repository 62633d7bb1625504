import CSQLite
import HeraldJournal

/// Result codes that say what kind of failure an SQLite error is.
extension SQLiteError {
    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
    public var isNotADatabase: Bool { code & 0xFF == SQLITE_NOTADB || code & 0xFF == SQLITE_CORRUPT }
}
