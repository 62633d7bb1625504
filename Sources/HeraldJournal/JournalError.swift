import HeraldCore

/// Why the journal cannot be used. The description says what to do.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable {
        case notADatabase
        case newerSchema(found: Int, supported: Int)
        case olderSchema(found: Int)
        case busy
        case missing
        /// A writer that was closed was handed work.
        case closed
        case leased(campaign: String, pid: Int, host: String)
        case inputsChanged(campaign: String, file: String, path: String)
        case unknownCampaign(String)
        case controlled(campaign: String, control: String)
        case sqlite(SQLiteError)
        /// `--journal` names something herald cannot open (an unknown scheme, a bad URL).
        case badLocation(String)
        /// The PostgreSQL server refused, failed or could not be reached.
        case server(String)
        /// The command needs what only the SQLite journal has so far.
        case unsupported(String)
        /// This process's import lost its connection, and with it the import lock: another
        /// sender may be importing the campaign again. Open it again and join.
        case importCutShort(campaign: Int64)
    }

    package let kind: Kind
    public let path: String

    package init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public static func closed(path: String) -> JournalError { JournalError(.closed, path: path) }

    public static func server(_ message: String, path: String) -> JournalError { JournalError(.server(message), path: path) }

    public static func unsupported(_ what: String, path: String) -> JournalError { JournalError(.unsupported(what), path: path) }

    public static func newerSchema(found: Int, supported: Int, path: String) -> JournalError {
        JournalError(.newerSchema(found: found, supported: supported), path: path)
    }

    public static func leased(campaign: String, pid: Int, host: String, path: String) -> JournalError {
        JournalError(.leased(campaign: campaign, pid: pid, host: host), path: path)
    }

    public static func inputsChanged(campaign: String, file: String, changed: String, path: String) -> JournalError {
        JournalError(.inputsChanged(campaign: campaign, file: file, path: changed), path: path)
    }

    public static func controlled(campaign: String, control: String, path: String) -> JournalError {
        JournalError(.controlled(campaign: campaign, control: control), path: path)
    }

    public static func unknownCampaign(_ id: String, path: String) -> JournalError {
        JournalError(.unknownCampaign(id), path: path)
    }

    /// True when another process holds the campaign (as opposed to a broken journal).
    public var isLeaseConflict: Bool {
        if case .leased = kind { return true }
        return false
    }

    public var isInputChange: Bool {
        if case .inputsChanged = kind { return true }
        return false
    }

    /// A paused or cancelled campaign that this process may not send.
    public var isControlled: Bool {
        if case .controlled = kind { return true }
        return false
    }

    /// A journal an older herald wrote, not yet migrated (it holds no suppression list).
    public var isOlderSchema: Bool {
        if case .olderSchema = kind { return true }
        return false
    }

    public static func importCutShort(cid: Int64, path: String) -> JournalError {
        JournalError(.importCutShort(campaign: cid), path: path)
    }

    /// The import lost its lock (see `Kind.importCutShort`): open the campaign again.
    public var isImportCutShort: Bool {
        if case .importCutShort = kind { return true }
        return false
    }

    public var isUnknownCampaign: Bool {
        if case .unknownCampaign = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .notADatabase:
            return "\(path): not a Herald journal (not an SQLite database, or damaged); it was left untouched. Point --journal at another file."
        case .newerSchema(let found, let supported):
            return "\(path): journal schema version \(found) is newer than this herald understands (\(supported)); it was left untouched. Use a newer herald."
        case .olderSchema(let found):
            return "\(path): journal schema version \(found) is older than this herald's; run `herald status` once to upgrade it."
        case .busy:
            return "\(path): the journal is locked by another process; try again when it finishes."
        case .closed:
            return "\(path): the receipts writer is closed."
        case .missing:
            return "\(path): no journal here yet; run a campaign first or pass --journal."
        case .leased(let campaign, let pid, let host):
            return "campaign \(campaign.quoted) is being sent by another herald (pid \(pid) on \(host)); wait for it or stop it first."
        case .inputsChanged(let campaign, let file, let changed):
            return "\(changed): the \(file) changed since campaign \"\(campaign)\" started sending; restore the original file or run it as a campaign with a new id."
        case .controlled(let campaign, let control):
            switch control {
            case "cancel": return "campaign \"\(campaign)\" was cancelled; it sends nothing more (run it under a new id to send again)."
            case "purged": return "campaign \"\(campaign)\" was purged (its numbers are gone); run it under a new id to send again."
            default: return "campaign \"\(campaign)\" is paused; `herald resume \(campaign)` continues it."
            }
        case .unknownCampaign(let id):
            return "\(path): no campaign \(id.quoted) in this journal."
        case .sqlite(let error):
            return "\(path): \(error)"
        case .badLocation(let why):
            return "--journal \(path): \(why)"
        case .server(let message):
            return "\(path): \(message)"
        case .importCutShort(let cid):
            return "\(path): the connection was lost while importing campaign #\(cid); another sender may have taken the import over. Run it again."
        case .unsupported(let what):
            return "\(path): \(what) needs a SQLite journal for now; every other command works on PostgreSQL (see \"Running on several machines\" in the README)."
        }
    }
}
