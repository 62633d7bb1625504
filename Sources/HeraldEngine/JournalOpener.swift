import Foundation
import HeraldPostgres
import HeraldJournal
import HeraldStore

/// Opens the journal `--journal` names: a SQLite file, or a PostgreSQL URL.
public enum JournalOpener {
    public static func open(_ location: String, create: Bool = true) throws(JournalError) -> any CampaignJournal {
        switch try JournalLocation(parsing: location) {
        case .sqlite(let path): return try Journal(path: path, create: create)
        case .postgres(let target): return try PostgresJournal(target: target)
        }
    }

    /// Whether a journal exists at `location` (a PostgreSQL database always may).
    public static func exists(_ location: String) -> Bool {
        switch try? JournalLocation(parsing: location) {
        case .sqlite(let path): FileManager.default.fileExists(atPath: path)
        case .postgres: true
        case nil: false
        }
    }
}
