import HeraldCore
import HeraldJournal

/// Writes a campaign's rows in batched transactions. The campaign stays
/// `importing` until `finish`, so an import cut short is redone from scratch.
public final class ImportWriter {
    let journal: Journal
    let cid: Int64
    let batchSize: Int
    private var inBatch = 0
    private var time: Int64
    public private(set) var rows = 0
    /// Made on the first row that does not say whether it may repeat. Not `lazy`: a lazy
    /// property is read and written back whole, so each insert copied the filter (quadratic).
    private var filter: DestinationFilter?
    /// The last row whose number may repeat an earlier row's (the numbers themselves go
    /// to a temporary table, so memory stays flat however many rows repeat).
    private var lastSuspect = 0
    private var suspect: Statement?
    /// Counters for the rows of the open batch, written in the batch's transaction.
    private var pendingInBatch = 0
    private var skippedInBatch: [Reason: Int] = [:]
    private var reportInBatch = ReportCounters()
    private var runRegion: String?
    private var runCost: Int64 = 0

    private func flushRegionRun() {
        if runCost != 0 { reportInBatch.add(.pending, region: runRegion, cost: runCost, at: time) }
        runCost = 0
    }

    init(journal: Journal, cid: Int64, batchSize: Int) {
        self.journal = journal
        self.cid = cid
        self.batchSize = batchSize
        self.time = journal.now()
    }

    /// Whether `destination` may be an earlier row's, by the filter (updated in place).
    private func mayRepeat(_ destination: UInt64) -> Bool {
        if filter == nil { filter = DestinationFilter(expected: 1 << 20) }
        return filter?.insert(destination) ?? true
    }

    public func add(_ row: ImportedRow) throws(JournalError) {
        do {
            if inBatch == 0 { try journal.db.execute("BEGIN IMMEDIATE") }
            var waiting = WaitingRow(row: row.row, destination: row.destination.map { Int64($0) }, region: row.region,
                                     body: nil, state: .pending, reason: nil, detail: nil, parts: row.parts,
                                     cost: row.cost, timeZones: row.timeZones, route: row.route, language: row.language)
            if let reason = row.skipReason {
                waiting.state = .skipped
                waiting.reason = reason.rawValue
                waiting.detail = row.skipDetail
                skippedInBatch[reason, default: 0] += 1
            } else {
                waiting.body = bodies.count..<(bodies.count + row.body.count)
                bodies.append(contentsOf: row.body)
                pendingInBatch += 1
                // Summed while the region repeats (CSVs come sorted by country more often than not).
                if row.region != runRegion {
                    flushRegionRun()
                    runRegion = row.region
                }
                runCost &+= row.cost
                if let destination = row.destination, row.maybeRepeat ?? mayRepeat(destination) {
                    try noteSuspect(destination)
                    lastSuspect = row.row
                }
            }
            waitingRows.append(waiting)
            rows += 1
            inBatch += 1
            if waitingRows.count == Self.rowsPerInsert || inBatch >= batchSize { try insertWaiting() }
            if inBatch >= batchSize { try commitBatch() }
        } catch {
            throw JournalError.from(error, path: journal.path)
        }
    }

    /// Rows go in `rowsPerInsert` to a statement: a multi-row `INSERT` costs SQLite much
    /// less per row than one statement a row (measured, 1M rows with the journal's indexes:
    /// 2.75 s one a row, 1.58 s 64 a row).
    static let rowsPerInsert = 64

    /// A row held for the next insert; its body is a range of `bodies` (the caller's
    /// buffer is only lent for the call).
    private struct WaitingRow {
        let row: Int
        let destination: Int64?
        let region: String?
        var body: Range<Int>?
        var state: MessageState
        var reason: String?
        var detail: String?
        let parts: Int
        let cost: Int64
        let timeZones: String?
        let route: Int
        let language: String?
    }
    private var waitingRows: [WaitingRow] = []
    private var bodies: [UInt8] = []
    /// Inserts by row count: `rowsPerInsert`, and the last rows of an import.
    private var inserts: [Int: Statement] = [:]

    private func insertWaiting() throws {
        guard !waitingRows.isEmpty else { return }
        let insert = try insertStatement(rows: waitingRows.count)
        try bodies.withUnsafeBufferPointer { bodies throws in
            for (index, row) in waitingRows.enumerated() {
                let first = Int32(index * Self.columns)
                insert.bind(first + 1, cid).bind(first + 2, row.row).bind(first + 3, row.state.rawValue)
                    .bind(first + 4, row.destination).bind(first + 5, row.region)
                    .bind(first + 7, row.reason).bind(first + 8, row.detail).bind(first + 9, time)
                    .bind(first + 10, row.parts).bind(first + 11, row.cost).bind(first + 12, row.timeZones)
                    .bind(first + 13, row.route).bind(first + 14, row.language)
                if let body = row.body {
                    insert.bind(first + 6, utf8: UnsafeBufferPointer(rebasing: bodies[body]))
                } else {
                    insert.bind(first + 6, nil as String?)
                }
            }
            try insert.run()
        }
        waitingRows.removeAll(keepingCapacity: true)
        bodies.removeAll(keepingCapacity: true)
    }

    private func commitBatch() throws {
        try writeCounters()
        try journal.db.execute("COMMIT")
        inBatch = 0
        time = journal.now()
    }

    private func noteSuspect(_ destination: UInt64) throws {
        if suspect == nil {
            try journal.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_suspect (dest INTEGER PRIMARY KEY) WITHOUT ROWID; DELETE FROM import_suspect")
            suspect = try journal.db.preparedOnce("INSERT OR IGNORE INTO import_suspect (dest) VALUES (?1)")
        }
        suspect!.bind(1, Int64(bitPattern: destination))
        try suspect!.run()
    }

    /// Adds the open batch's rows to the campaign's counters.
    private func writeCounters() throws {
        var changes = TallyChanges()
        changes.add(TallyKey(.pending), pendingInBatch)
        for (reason, count) in skippedInBatch { changes.add(TallyKey(.skipped, reason), count) }
        try journal.apply(changes, cid: cid)
        flushRegionRun()
        try journal.apply(reportInBatch, cid: cid)
        reportInBatch = ReportCounters()
        pendingInBatch = 0
        skippedInBatch.removeAll(keepingCapacity: true)
    }

    /// Columns an inserted row binds.
    private static let columns = 14

    /// The insert of `rows` rows, prepared once.
    private func insertStatement(rows: Int) throws(SQLiteError) -> Statement {
        if let insert = inserts[rows] { return insert }
        let values = (0..<rows).map { row in
            "(" + (1...Self.columns).map { "?\(row * Self.columns + $0)" }.joined(separator: ", ") + ")"
        }
        let statement = try journal.db.preparedOnce(
            """
            INSERT INTO message (cid, row, state, dest, region, body, reason, detail, updated_at, parts, cost, tz, route, language)
            VALUES \(values.joined(separator: ", "))
            """)
        inserts[rows] = statement
        return statement
    }

    /// Commits the last rows, marks every repeat of a destination as a duplicate
    /// (the first valid row for a number is the one sent) and makes the campaign ready.
    /// Only the numbers the filter flagged are looked at, in the rows up to the last
    /// flagged one: no sort, and no read at all when no number repeats.
    /// Returns the number of duplicates.
    public func finish() throws(JournalError) -> Int {
        defer { journal.endImport() }
        try journal.read {
            try insertWaiting()
            if inBatch > 0 { try commitBatch() }
        }
        return try journal.write {
            var count = 0
            if suspect != nil {
                // Only rows whose number was flagged are sorted; the first row of a number is sent.
                let duplicates = try journal.db.statement(
                    """
                    UPDATE message SET state = ?3, reason = ?4, detail = ?5 || first
                    FROM (SELECT row AS r, first_value(row) OVER (PARTITION BY dest ORDER BY row) AS first
                          FROM message WHERE cid = ?1 AND row <= ?2 AND state = \(MessageState.pending.sql)
                              AND dest IN (SELECT dest FROM temp.import_suspect))
                    WHERE cid = ?1 AND row = r AND r != first
                    RETURNING region, cost
                    """)
                duplicates.bind(1, cid).bind(2, lastSuspect).bind(3, BulkRule.Duplicate.state.rawValue)
                    .bind(4, BulkRule.Duplicate.reason.rawValue).bind(5, BulkRule.Duplicate.detailPrefix)
                var report = ReportCounters()
                while try duplicates.step() {
                    report.move(region: duplicates.string(0), cost: duplicates.int64(1), from: .pending, at: time,
                                to: BulkRule.Duplicate.state, at: time)
                    count += 1
                }
                duplicates.reset()
                try journal.apply(report, cid: cid)
                try journal.db.execute("DELETE FROM temp.import_suspect")
                suspect = nil
            }
            try journal.apply(BulkRule.Duplicate.move(count), cid: cid)
            let ready = try journal.db.statement(
                "UPDATE campaign SET state = \(CampaignState.ready.sql), total_rows = ?2, updated_at = ?3 WHERE cid = ?1")
            ready.bind(1, cid).bind(2, rows).bind(3, journal.now())
            try ready.run()
            return count
        }
    }

    /// Abandons an unfinished batch (the campaign stays `importing`).
    public func abandon() {
        defer { journal.endImport() }
        if inBatch > 0 { try? journal.db.execute("ROLLBACK") }
        inBatch = 0
        waitingRows.removeAll()
        bodies.removeAll()
        pendingInBatch = 0
        skippedInBatch.removeAll()
    }
}

extension Journal {
    public func importWriter(cid: Int64, batchSize: Int = 20_000) -> ImportWriter {
        // Import writes are redone from scratch after a crash, so they need not
        // reach the disk before the next batch: NORMAL here, FULL again after. Rows are
        // appended in key order, so a small page cache holds the pages they touch; it also
        // caps the memory of the sort that finds duplicates.
        try? db.execute("PRAGMA synchronous=NORMAL")
        try? db.execute("PRAGMA cache_size=-\(Self.importCacheKiB)")
        return ImportWriter(journal: self, cid: cid, batchSize: batchSize)
    }

    public func endImport() {
        try? db.execute("PRAGMA synchronous=FULL")
        try? db.execute("PRAGMA cache_size=-\(Self.cacheKiB)")
    }
}
