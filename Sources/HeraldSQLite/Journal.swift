import HeraldCore
import HeraldJournal

import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The SQLite journal: the source of truth for every campaign, message and run.
///
/// One connection, used from one thread at a time (the engine confines it to a
/// serial queue). WAL mode with `synchronous=FULL`: a claim that has committed
/// survives a power cut, so a row marked `sending` is never silently sent again.
public final class Journal {
    public static let schemaVersion = migrations.schemaVersion()
    /// Page cache sizes (KiB): while sending, and while importing.
    static let cacheKiB = 12288
    static let importCacheKiB = 4096

    public let path: String
    let db: SQLiteDatabase
    /// The suppression list as claims last saw it, with the list's version then.
    var suppressionCache: (version: Int64, check: SuppressionCheck?)?
    /// Who was messaged in a capped campaign's window (`prepareFrequencyCap`).
    var contactCheck: ContactCheck?
    /// Milliseconds since 1970; replaceable in tests.
    public var now: () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Opens (and if need be creates) the journal at `path`. A file that is not an
    /// SQLite database, or has a newer schema, is reported and never written to.
    /// `readOnly` opens an existing journal for reading only: nothing is created,
    /// migrated or written (for offline commands such as `estimate`).
    public init(path: String, create: Bool = true, readOnly: Bool = false) throws(JournalError) {
        _ = Self.configured
        // A URL is never taken for a file path (it would quietly make a file named after it).
        if JournalLocation.scheme(of: path) != nil {
            switch try JournalLocation(parsing: path) {
            case .postgres(let target): throw JournalError.unsupported("this command", path: target.description)
            case .sqlite: break
            }
        }
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if readOnly, !exists { throw JournalError(.missing, path: path) }
        if !exists {
            guard create else { throw JournalError(.missing, path: path) }
            // Made here, 0600 in a 0700 folder: SQLite gives the WAL and shared-memory files
            // the journal's own mode.
            if let fd = try? PrivateFiles.open(path, truncate: false) { close(fd) }
        }
        do {
            db = try SQLiteDatabase(path: path, readOnly: readOnly)
            sqlite3_busy_handler(db.handle, Self.busyHandler, nil)
            // Reading the schema version first touches the file header: a file that is
            // not a database fails here, before anything could be written to it. Version
            // and tables in one statement, one snapshot: read apart, another process
            // creating the same journal could commit its tables between them, and a new
            // journal would look like a file that is not Herald's.
            let header = try db.statement(
                "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)")
            _ = try header.step()
            let found = header.int(0)
            let tableCount = header.int(1)
            header.reset()
            if found > Self.schemaVersion {
                throw JournalError(.newerSchema(found: found, supported: Self.schemaVersion), path: path)
            }
            if found == 0 && tableCount > 0 { throw JournalError(.notADatabase, path: path) }
            if readOnly {
                guard found == Self.schemaVersion else { throw JournalError(.olderSchema(found: found), path: path) }
                return
            }
            // Larger pages for a new journal: fewer B-tree pages to split and write per row.
            if found == 0 { try db.execute("PRAGMA page_size=8192") }
            // Switching a new file to WAL needs it to itself: another process creating the
            // same journal at the same moment answers busy without waiting. Tried again.
            try Self.retryingBusy { try db.execute("PRAGMA journal_mode=WAL") }
            try db.execute("PRAGMA synchronous=FULL")
            try db.execute("PRAGMA cache_size=-\(Self.cacheKiB)")
            // Before foreign keys are on: v4 rebuilds the campaign table others refer to.
            if found < Self.schemaVersion { try Self.retryingBusy { try migrate(from: found) } }
            try db.execute("PRAGMA foreign_keys=ON")
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// Waits for another connection's write to finish (the receipts writer and a
    /// sender share the journal): polls every 50 µs for the first 10 ms, then every
    /// millisecond, up to about 5 s. SQLite's own busy timeout sleeps 1 to 100 ms
    /// between tries, which stalls a sender for far longer than the writes it waits on.
    private static let busyHandler: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { _, tries in
        guard tries < 5200 else { return 0 }
        usleep(tries < 200 ? 50 : 1000)
        return 1
    }

    /// Runs `body` again while SQLite answers busy without waiting (up to about 5 s).
    private static func retryingBusy(_ body: () throws -> Void) throws {
        var tries = 0
        while true {
            do {
                return try body()
            } catch let error as SQLiteError where error.isBusy && tries < 500 {
                tries += 1
                usleep(10_000)
            }
        }
    }

    /// The journal's folder and files (WAL and shared memory when there), whose modes
    /// `herald doctor` checks.
    public var privateFiles: [String] {
        let folder = (path as NSString).deletingLastPathComponent
        return ([folder.isEmpty ? "." : folder, path, path + "-wal", path + "-shm"])
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Process-wide SQLite settings, applied once before the first connection opens.
    private static let configured: Bool = {
        herald_sqlite3_disable_memstatus() == SQLITE_OK
    }()

    private func migrate(from found: Int) throws {
        try db.transaction {
            // Read again under the write lock: another process opening the same new journal
            // at the same moment (a sender and `herald serve`) may have migrated it already.
            let current = try db.statement("PRAGMA user_version")
            _ = try current.step()
            let version = current.int(0)
            current.reset()
            guard version < Self.schemaVersion else { return }
            for migration in Self.migrations.after(version) { try migration.apply(self) }
            try db.execute("PRAGMA user_version=\(Self.schemaVersion)")
        }
    }

    /// Runs `body` in one IMMEDIATE transaction, mapping SQLite errors to journal errors.
    func write<T>(_ body: () throws -> T) throws(JournalError) -> T {
        do {
            return try db.transaction(body)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// Runs `body` outside a transaction; no statement is left open after it.
    func read<T>(_ body: () throws -> T) throws(JournalError) -> T {
        do {
            return try db.scoped(body)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }
}
