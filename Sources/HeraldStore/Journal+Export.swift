import HeraldCore

/// A table of a campaign as `herald journal copy` moves it: its name and the columns
/// both journals share (the campaign's id column, `cid`, is implied).
public struct ExportedTable: Sendable {
    public let name: String
    public let columns: [String]

    public init(_ name: String, _ columns: [String]) {
        self.name = name
        self.columns = columns
    }

    /// Every table that holds a campaign's progress, spend and receipts.
    public static let campaignTables: [ExportedTable] = [
        ExportedTable("message", ["row", "dest", "region", "body", "parts", "cost", "tz", "state", "reason", "detail", "doubt",
                                  "attempts", "not_before", "provider_ref", "spend_month", "updated_at"]),
        ExportedTable("tally", ["state", "reason", "n"]),
        ExportedTable("ledger", ["month", "channel", "reserved", "spent"]),
        ExportedTable("run", ["mode", "pid", "host", "started_at", "ended_at", "outcome", "sent"]),
        ExportedTable("delivery", ["row", "state", "code", "detail", "sent_at", "event_at", "read_at", "price"]),
        ExportedTable("delivery_tally", ["state", "code", "n"]),
        ExportedTable("delivery_latency", ["bucket", "n"]),
        ExportedTable("receipt", ["received_at", "provider", "type", "ref", "row", "raw"]),
    ]

    /// The suppression list (the journal's, not a campaign's).
    public static let suppression = ExportedTable("suppression", ["dest", "scope", "reason", "source", "added_at"])
}

extension Journal {
    /// Reads one campaign's rows of every table (and the suppression list) in one
    /// transaction that holds the write lock, so nothing changes while they are read.
    /// Each value is given as SQLite renders it in text, nil for NULL. Refuses a campaign
    /// in flight: one whose lease is live or that has rows being sent.
    public func export(_ record: CampaignRecord, tables: [ExportedTable], suppression: Bool,
                       row: (ExportedTable, [String?]) throws -> Void) throws(JournalError) {
        try write {
            if try isLeased(record) || (try countsNow(cid: record.cid))[.sending] > 0 || record.state == .importing {
                throw JournalError(.leased(campaign: record.name, pid: record.leasePID ?? 0, host: record.leaseHost ?? "?"), path: path)
            }
            for table in tables {
                try exportRows(table, filter: "WHERE cid = ?1", cid: record.cid, row: row)
            }
            if suppression { try exportRows(.suppression, filter: "", cid: nil, row: row) }
        }
    }

    private func exportRows(_ table: ExportedTable, filter: String, cid: Int64?,
                            row: (ExportedTable, [String?]) throws -> Void) throws {
        let statement = try db.statement("SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) \(filter)")
        if let cid { statement.bind(1, cid) }
        defer { statement.reset() }
        var values = [String?](repeating: nil, count: table.columns.count)
        while try statement.step() {
            for index in values.indices { values[index] = statement.string(Int32(index)) }
            try row(table, values)
        }
    }
}
