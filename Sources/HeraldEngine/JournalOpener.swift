import Foundation
import HeraldPostgres
import HeraldJournal
import HeraldSQLite

/// Opens the journal `--journal` names: a SQLite file, or a PostgreSQL URL. Every command
/// gets its journal here, as the capability it needs: sending and planning from either
/// store; what only the SQLite journal has so far (receipts, reports, suppression
/// commands, maintenance) from `sqlite(_:for:)`, which names the command when handed a
/// PostgreSQL URL. No command opens a store itself.
public enum JournalOpener {
    /// What both stores are.
    private typealias EitherStore = CampaignJournal & PlanningJournal & SuppressionJournal & MaintenanceJournal & RetentionJournal
        & ReportingJournal & ReceiptJournal

    private static func store(_ location: String, create: Bool) throws(JournalError) -> any EitherStore {
        switch try JournalLocation(parsing: location) {
        case .sqlite(let path): return try Journal(path: path, create: create)
        case .postgres(let target): return try PostgresJournal(target: target)
        }
    }

    /// The journal a sender uses (run, resume, worker, status, control commands).
    public static func open(_ location: String, create: Bool = true) throws(JournalError) -> any CampaignJournal {
        try store(location, create: create)
    }

    /// The journal `herald suppress` edits.
    public static func suppression(_ location: String, create: Bool = true) throws(JournalError) -> any SuppressionJournal {
        try store(location, create: create)
    }

    /// The journal `herald purge` and `retention_days` purge.
    public static func retention(_ location: String) throws(JournalError) -> any RetentionJournal {
        try store(location, create: false)
    }

    /// The journal `herald report` reads (an existing one only).
    public static func reporting(_ location: String) throws(JournalError) -> any ReportingJournal {
        try store(location, create: false)
    }

    /// The journal delivery receipts are recorded in (receivers, `receipts import`, the
    /// simulator's receipts), and `status` reads them from.
    public static func receipts(_ location: String, create: Bool = true) throws(JournalError) -> any ReceiptJournal {
        try store(location, create: create)
    }

    /// The journal `herald doctor` checks and repairs.
    public static func maintenance(_ location: String) throws(JournalError) -> any MaintenanceJournal {
        try store(location, create: false)
    }

    /// The journal `validate` and `estimate` read, or nil when there is none yet (no
    /// SQLite file). A SQLite journal is opened read-only.
    public static func planning(_ location: String) throws(JournalError) -> (any PlanningJournal)? {
        switch try JournalLocation(parsing: location) {
        case .sqlite(let path):
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try Journal(path: path, readOnly: true)
        case .postgres(let target): return try PostgresJournal(target: target)
        }
    }

    /// The SQLite journal, for what only it has so far; a PostgreSQL URL is refused with
    /// `what` named (exit 4).
    public static func sqlite(_ location: String, for what: String, create: Bool = true,
                              readOnly: Bool = false) throws(JournalError) -> Journal {
        switch try JournalLocation(parsing: location) {
        case .sqlite(let path): return try Journal(path: path, create: create, readOnly: readOnly)
        case .postgres(let target): throw JournalError.unsupported(what, path: target.description)
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
