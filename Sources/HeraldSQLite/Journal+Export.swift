import HeraldCore
import HeraldJournal

extension Journal: CampaignExporting {
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
