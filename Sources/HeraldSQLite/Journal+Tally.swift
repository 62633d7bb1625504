import HeraldCore
import HeraldJournal

extension Journal {
    static let tallyUpsert =
        "INSERT INTO tally (cid, state, reason, n) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (cid, state, reason) DO UPDATE SET n = n + ?4"

    func apply(_ changes: TallyChanges, cid: Int64) throws {
        guard !changes.isEmpty else { return }
        let upsert = try db.statement(Self.tallyUpsert)
        for (key, count) in changes.deltas where count != 0 {
            upsert.bind(1, cid).bind(2, key.state.rawValue).bind(3, key.reason).bind(4, count)
            try upsert.run()
        }
    }

    /// The campaign's counters for one state, by reason code.
    func tally(cid: Int64, state: MessageState) throws -> [(code: String, count: Int)] {
        let statement = try db.statement("SELECT reason, n FROM tally WHERE cid = ?1 AND state = ?2 AND n != 0")
        statement.bind(1, cid).bind(2, state.rawValue)
        var rows: [(String, Int)] = []
        while try statement.step() { rows.append((statement.string(0) ?? "", statement.int(1))) }
        statement.reset()
        return rows
    }

    /// Counts from the counters: constant time, whatever the number of rows.
    public func counts(cid: Int64) throws(JournalError) -> CampaignCounts {
        try read { try countsNow(cid: cid) }
    }

    func countsNow(cid: Int64) throws -> CampaignCounts {
        let statement = try db.statement("SELECT state, reason, n FROM tally WHERE cid = ?1")
        statement.bind(1, cid)
        var counts = CampaignCounts()
        while try statement.step() {
            guard let state = MessageState(rawValue: statement.int(0)) else { continue }
            counts.add(state: state, reason: statement.string(1) ?? "", count: statement.int(2))
        }
        statement.reset()
        return counts
    }

    /// Counts recomputed from the rows themselves (a full scan: for checks only).
    public func recount(cid: Int64) throws(JournalError) -> CampaignCounts {
        try read {
            var counts = CampaignCounts()
            for (key, count) in try rowTally(cid: cid) { counts.add(state: key.state, reason: key.reason, count: count) }
            return counts
        }
    }

    private func rowTally(cid: Int64) throws -> [TallyKey: Int] {
        let statement = try db.statement("SELECT state, reason, count(*) FROM message WHERE cid = ?1 GROUP BY state, reason")
        statement.bind(1, cid)
        var tally: [TallyKey: Int] = [:]
        while try statement.step() {
            guard let state = MessageState(rawValue: statement.int(0)) else { continue }
            tally[TallyKey(state, code: statement.string(1)), default: 0] += statement.int(2)
        }
        statement.reset()
        return tally
    }

    /// Compares every counter with the rows: counts by state and reason and the ledger's
    /// reservations (`CounterCheck`, as on PostgreSQL), then what only this store keeps: where
    /// pending rows start, and the delivery counters. Empty when all agree.
    public func checkCounters(cid: Int64) throws(JournalError) -> [CounterDrift] {
        try read {
            var fromRows = CampaignCounts()
            for (key, count) in try rowTally(cid: cid) { fromRows.add(state: key.state, reason: key.reason, count: count) }
            let reserved = try db.statement("SELECT coalesce(sum(reserved), 0) FROM ledger WHERE cid = ?1")
            reserved.bind(1, cid)
            _ = try reserved.step()
            let ledgerReserved = reserved.int64(0)
            reserved.reset()
            let held = try db.statement(
                """
                SELECT coalesce(sum(cost), 0) FROM message
                WHERE cid = ?1 AND state IN (\(MessageState.sending.sql), \(MessageState.inDoubt.sql)) AND spend_month IS NOT NULL
                """)
            held.bind(1, cid)
            _ = try held.step()
            let rowsReserved = held.int64(0)
            held.reset()
            var drift = CounterCheck.drift(.init(counted: try countsNow(cid: cid), fromRows: fromRows,
                                                 ledgerReserved: ledgerReserved, rowsReserved: rowsReserved))
            let after = try pendingAfter(cid: cid)
            let early = try db.statement(
                "SELECT count(*) FROM message WHERE cid = ?1 AND row <= ?2 AND state = \(MessageState.pending.sql)")
            early.bind(1, cid).bind(2, after)
            _ = try early.step()
            let missed = early.int64(0)
            early.reset()
            if missed != 0 {
                drift.append(CounterDrift(what: "pending rows before line \(after + 1) (where claims start)", counted: 0, fromRows: missed))
            }
            drift += DeliveryTallyChanges.drift(counted: try deliveryCounters(cid: cid), fromRows: try deliveryRowTally(cid: cid))
            drift += ReportCounters.drift(counted: try reportCounters(cid: cid), fromRows: try reportCountersFromRows(cid: cid))
            return drift
        }
    }

    /// Rebuilds the counters from the rows (after `checkCounters` found drift).
    public func repairCounters(cid: Int64) throws(JournalError) {
        try write {
            let prices = try db.statement(DeliveryTallyChanges.clearPricesOutOfRangeSQL(cid: "?1"))
            prices.bind(1, cid)
            try prices.run()
            let tally = try rowTally(cid: cid)
            let clear = try db.statement("DELETE FROM tally WHERE cid = ?1")
            clear.bind(1, cid)
            try clear.run()
            var changes = TallyChanges()
            for (key, count) in tally { changes.add(key, count) }
            try apply(changes, cid: cid)
            let first = try db.statement(
                "SELECT row FROM message WHERE cid = ?1 AND state = \(MessageState.pending.sql) ORDER BY row LIMIT 1")
            first.bind(1, cid)
            let after = try first.step() ? first.int(0) - 1 : Int.max
            first.reset()
            let fix = try db.statement("UPDATE campaign SET pending_after = min(pending_after, ?2) WHERE cid = ?1")
            fix.bind(1, cid).bind(2, after)
            try fix.run()
            let rows = try deliveryRowTally(cid: cid)
            let clearDelivery = try db.statement("DELETE FROM delivery_tally WHERE cid = ?1")
            clearDelivery.bind(1, cid)
            try clearDelivery.run()
            var delivery = DeliveryTallyChanges()
            for (key, count) in rows { delivery.add(cid, key.state, key.code, count) }
            try applyDelivery(delivery)
            try rebuildReportCounters(cid: cid)
        }
    }

    /// Delivery counters of a campaign, zeros left out.
    private func deliveryCounters(cid: Int64) throws -> [DeliveryTallyChanges.Key: Int] {
        let statement = try db.statement("SELECT state, code, n FROM delivery_tally WHERE cid = ?1 AND n != 0")
        statement.bind(1, cid)
        var counts: [DeliveryTallyChanges.Key: Int] = [:]
        while try statement.step() {
            counts[.init(cid: cid, state: statement.string(0) ?? "", code: statement.string(1) ?? "")] = statement.int(2)
        }
        statement.reset()
        return counts
    }

    /// The same counts recounted from the `delivery` rows.
    private func deliveryRowTally(cid: Int64) throws -> [DeliveryTallyChanges.Key: Int] {
        let statement = try db.statement(
DeliveryTallyChanges.fromRowsSQL(cid: "?1"))
        statement.bind(1, cid)
        var counts: [DeliveryTallyChanges.Key: Int] = [:]
        while try statement.step() {
            guard statement.int(2) != 0 else { continue }
            counts[.init(cid: cid, state: statement.string(0) ?? "", code: statement.string(1) ?? "")] = statement.int(2)
        }
        statement.reset()
        return counts
    }

    func pendingAfter(cid: Int64) throws -> Int {
        try campaignValue("pending_after", cid: cid) { $0.int(0) }
    }

    /// Deletes a campaign's rows and their counters.
    func deleteRows(cid: Int64) throws {
        let clears = ExportedTable.importedTables.map { "DELETE FROM \($0) WHERE cid = ?1" }
        for sql in clears + ["UPDATE campaign SET pending_after = 0 WHERE cid = ?1"] {
            let statement = try db.statement(sql)
            statement.bind(1, cid)
            try statement.run()
        }
    }
}
