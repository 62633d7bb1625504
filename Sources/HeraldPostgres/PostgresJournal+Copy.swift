import HeraldCore
import HeraldJournal

import NIOCore
import PostgresNIO

extension PostgresJournal {
    /// Copies one campaign from a SQLite journal, with its rows and their progress, its
    /// counters, ledger, runs and delivery receipts (and, with `suppression`, the SQLite
    /// journal's suppression list), in one transaction: all of it or nothing. Returns false,
    /// copying nothing, when the campaign is already here. A campaign in flight is refused.
    public func copyCampaign(_ record: CampaignRecord, from source: any CampaignExporting, suppression: Bool) throws(JournalError) -> Bool {
        if try campaign(id: record.id, mode: record.mode) != nil { return false }
        let routes = try source.exportedRoutes(record)
        do {
            try session.transaction {
                let cid = try session.query(
                    """
                    INSERT INTO campaign (id, mode, campaign_path, template_sha, recipients_sha, channel, state, total_rows,
                        created_at,
                        updated_at, ledger_scope, max_price, campaign_limit, monthly_limit, stop_reason, stop_kind, control,
                        scheduled_at, sender, purged_at, routes)
                    VALUES (\(record.id), \(record.mode.rawValue), \(record.campaignPath), \(record.templateSHA),
                        \(record.recipientsSHA), \(record.channel.rawValue), \(record.state.rawValue), \(record.totalRows),
                        \(record.createdAt), \(record.updatedAt), \(record.ledgerScope.rawValue),
                        \(record.limits.maxPrice?.nanos), \(record.limits.campaignLimit?.nanos),
                        \(record.limits.monthlyLimit?.nanos), \(record.stopReason), \(record.stopKind?.rawValue),
                        \(record.control?.rawValue), \(record.scheduledAt), \(record.sender.rawValue), \(record.purgedAt), \(routes))
                        RETURNING cid
                    """).first!.cells.int64(0)
                var copier = TableCopier(session: session, cid: cid)
                try source.export(record, tables: ExportedTable.campaignTables, suppression: suppression) { table, values in
                    try copier.add(table, values)
                }
                try copier.flush()
                // The month's ledger and the campaign's running total take its spend.
                try session.query(
                    """
                    INSERT INTO month_ledger (scope, channel, month, reserved, spent)
                    SELECT \(record.ledgerScope.rawValue), channel, month, reserved, spent FROM ledger WHERE cid = \(cid)
                    ON CONFLICT (scope, channel, month) DO UPDATE
                        SET reserved = month_ledger.reserved + excluded.reserved, spent = month_ledger.spent + excluded.spent
                    """)
                try session.query(
                    """
                    UPDATE campaign SET reserved = coalesce(l.reserved, 0), spent = coalesce(l.spent, 0)
                    FROM (SELECT sum(reserved)::bigint AS reserved, sum(spent)::bigint AS spent FROM ledger
                        WHERE cid = \(cid)) l
                    WHERE cid = \(cid)
                    """)
            }
            return true
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError.server(PostgresSession.describe(error), path: location)
        }
    }
}

/// Streams exported rows into `COPY` per table, the campaign's id put first; the
/// suppression list goes through a temporary table, so numbers already listed stay as they are,
/// and so does the sender memory, so the later identity of a number stays.
struct TableCopier {
    let session: PostgresSession
    let cid: Int64
    private var table: ExportedTable?
    private var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)

    init(session: PostgresSession, cid: Int64) {
        self.session = session
        self.cid = cid
    }

    mutating func add(_ next: ExportedTable, _ values: [String?]) throws {
        if table?.name != next.name || buffer.readableBytes > 4 << 20 { try flush() }
        table = next
        if next.name != ExportedTable.suppression.name {
            buffer.writeDecimal(cid)
            buffer.writeInteger(UInt8(9))
        }
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(9)) }
            buffer.writeText(value)
        }
        buffer.writeInteger(UInt8(10))
    }

    mutating func flush() throws {
        guard let table, buffer.readableBytes > 0 else { return }
        if table.name == ExportedTable.suppression.name {
            try session.query("CREATE TEMP TABLE IF NOT EXISTS copied_suppression (LIKE suppression) ON COMMIT DROP")
            try session.copy(into: "copied_suppression", columns: table.columns, data: buffer)
            try session.query("INSERT INTO suppression SELECT * FROM copied_suppression ON CONFLICT DO NOTHING")
            try session.query("DELETE FROM copied_suppression")
        } else if table.name == ExportedTable.senderMemory.name {
            // Numbers this journal already remembers keep the later of the two identities.
            try session.query("CREATE TEMP TABLE IF NOT EXISTS copied_sender_memory (LIKE sender_memory) ON COMMIT DROP")
            try session.copy(into: "copied_sender_memory", columns: ["cid"] + table.columns, data: buffer)
            try session.query(
                """
                INSERT INTO sender_memory SELECT * FROM copied_sender_memory ORDER BY dest, provider
                ON CONFLICT (dest, provider) DO UPDATE SET identity = excluded.identity, cid = excluded.cid, at = excluded.at
                WHERE excluded.at > sender_memory.at
                """)
            try session.query("DELETE FROM copied_sender_memory")
        } else {
            try session.copy(into: table.name, columns: ["cid"] + table.columns, data: buffer)
        }
        buffer.clear()
    }
}
