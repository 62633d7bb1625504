import HeraldCore
import HeraldJournal
import PostgresNIO

/// `herald doctor` on PostgreSQL: the counters every sender moves, checked against the rows
/// by the same comparison as SQLite (`CounterCheck`), and rebuilt while senders run.
extension PostgresJournal: MaintenanceJournal {
    public func checkCounters(cid: Int64) throws(JournalError) -> [CounterDrift] {
        try attempt {
            // One snapshot for the counters and the rows they count.
            try session.transaction {
                try session.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                let counted = try counts(cid: cid)
                var fromRows = CampaignCounts()
                for row in try session.query("SELECT state, reason, count(*) FROM message WHERE cid = \(cid) GROUP BY state, reason") {
                    let c = row.cells
                    guard let state = MessageState(rawValue: try c.int(0)) else { continue }
                    let key = TallyKey(state, code: try c.string(1))
                    fromRows.add(state: key.state, reason: key.reason, count: try c.int(2))
                }
                let ledgerReserved = try session.query(
                    """
                    SELECT coalesce(sum(reserved), 0)::int8
                    FROM ledger
                    WHERE cid = \(cid)
                    """).first?.cells.int64(0) ?? 0
                let rowsReserved = try session.query(
                    """
                    SELECT coalesce(sum(cost), 0)::int8 FROM message
                    WHERE cid = \(cid) AND state IN (\(MessageState.sending), \(MessageState.inDoubt))
                        AND spend_month IS NOT NULL
                    """).first?.cells.int64(0) ?? 0
                return CounterCheck.drift(.init(counted: counted, fromRows: fromRows,
                                                ledgerReserved: ledgerReserved, rowsReserved: rowsReserved))
                    + ReportCounters.drift(counted: try Self.reportCounters(cid: cid, session),
                                           fromRows: try Self.reportCountersFromRows(cid: cid, session))
                    + DeliveryTallyChanges.drift(counted: try deliveryCounters(cid: cid), fromRows: try deliveryRowTally(cid: cid))
            }
        }
    }

    /// Rebuilds the campaign's counters from its rows in one transaction. A sender that
    /// changes rows meanwhile moves the counters after this commits (its upsert waits on the
    /// rows this rewrites), so nothing is counted twice or lost.
    public func repairCounters(cid: Int64) throws(JournalError) {
        try attempt {
            try session.transaction {
                try session.query("DELETE FROM tally WHERE cid = \(cid)")
                try session.query(
                    """
                    INSERT INTO tally (cid, state, reason, n)
                    SELECT cid, state, coalesce(reason, ''), count(*) FROM message WHERE cid = \(cid) GROUP BY cid, state,
                        coalesce(reason, '')
                    """)
                try session.query(unsafeSQL: DeliveryTallyChanges.clearPricesOutOfRangeSQL(cid: "$1::int8"), binds { $0.append(cid) })
                try Self.rebuildReportCounters(cid: cid, session)
                let rows = try deliveryRowTally(cid: cid)
                try session.query("DELETE FROM delivery_tally WHERE cid = \(cid)")
                var delivery = DeliveryTallyChanges()
                for (key, count) in rows { delivery.add(cid, key.state, key.code, count) }
                try writeDeliveryCounters(delivery)
            }
        }
    }

    /// Delivery counters of a campaign, zeros left out.
    private func deliveryCounters(cid: Int64) throws -> [DeliveryTallyChanges.Key: Int] {
        var counts: [DeliveryTallyChanges.Key: Int] = [:]
        for row in try session.query("SELECT state, code, n FROM delivery_tally WHERE cid = \(cid) AND n != 0") {
            counts[.init(cid: cid, state: try row.cells.string(0) ?? "", code: try row.cells.string(1) ?? "")] =
                Int(clamping: try row.cells.int64(2))
        }
        return counts
    }

    /// The same counts recounted from the `delivery` rows.
    private func deliveryRowTally(cid: Int64) throws -> [DeliveryTallyChanges.Key: Int] {
        var counts: [DeliveryTallyChanges.Key: Int] = [:]
        for row in try session.query(unsafeSQL: DeliveryTallyChanges.fromRowsSQL(cid: "$1::int8"), binds { $0.append(cid) }) {
            let count = Int(clamping: try row.cells[2].decode(Int64.self))
            guard count != 0 else { continue }
            counts[.init(cid: cid, state: try row.cells.string(0) ?? "", code: try row.cells.string(1) ?? "")] = count
        }
        return counts
    }
}
