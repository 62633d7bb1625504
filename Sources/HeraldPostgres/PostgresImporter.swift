import HeraldCore
import HeraldJournal

import NIOCore
import PostgresNIO

/// Imports a campaign's rows with `COPY ... FROM STDIN` in chunks, while this process
/// holds the campaign's import lock (other senders wait on it). The campaign stays
/// `importing` until `finish`; an import cut short is redone from scratch, so a chunk
/// needs no transaction of its own with the counters: they are written by `finish`.
/// Nothing is tried again on a new connection: the lock went with the old one, and another
/// sender may be importing the campaign again (`JournalError.importCutShort`).
final class PostgresImporter: RowImporter {
    private let journal: PostgresJournal
    private let cid: Int64
    private let chunkRows: Int
    private var buffer: ByteBuffer
    private var inChunk = 0
    private let time: Int64
    private(set) var rows = 0
    private var pending = 0
    private var skipped: [Reason: Int] = [:]
    /// What the rows add to the report's counters (their cost to the estimate).
    private var report = ReportCounters()
    /// Numbers that may repeat an earlier row's (the scanner's filter flagged them).
    private var suspects: [Int64] = []

    static let columns = ["cid", "row", "dest", "region", "body", "parts", "cost", "tz", "state", "reason", "detail", "updated_at", "route", "language"]

    init(journal: PostgresJournal, cid: Int64, chunkRows: Int = 8192) {
        self.journal = journal
        self.cid = cid
        self.chunkRows = chunkRows
        buffer = ByteBufferAllocator().buffer(capacity: chunkRows * 128)
        time = journal.currentTime()
    }

    func add(_ row: ImportedRow) throws(JournalError) {
        let tab: UInt8 = 9
        buffer.writeDecimal(cid); buffer.writeInteger(tab)
        buffer.writeDecimal(Int64(row.row)); buffer.writeInteger(tab)
        if let destination = row.destination { buffer.writeDecimal(Int64(bitPattern: destination)) } else { buffer.writeNull() }
        buffer.writeInteger(tab)
        buffer.writeText(row.region); buffer.writeInteger(tab)
        if row.skipReason == nil { buffer.writeEscaped(row.body) } else { buffer.writeNull() }
        buffer.writeInteger(tab)
        buffer.writeDecimal(Int64(row.parts)); buffer.writeInteger(tab)
        buffer.writeDecimal(row.cost); buffer.writeInteger(tab)
        buffer.writeText(row.timeZones); buffer.writeInteger(tab)
        if let reason = row.skipReason {
            buffer.writeDecimal(Int64(MessageState.skipped.rawValue)); buffer.writeInteger(tab)
            buffer.writeText(reason.rawValue); buffer.writeInteger(tab)
            buffer.writeText(row.skipDetail); buffer.writeInteger(tab)
            skipped[reason, default: 0] += 1
        } else {
            buffer.writeDecimal(Int64(MessageState.pending.rawValue)); buffer.writeInteger(tab)
            buffer.writeNull(); buffer.writeInteger(tab)
            buffer.writeNull(); buffer.writeInteger(tab)
            pending += 1
            report.add(.pending, region: row.region, cost: row.cost, at: time)
            if let destination = row.destination, row.maybeRepeat ?? true { suspects.append(Int64(bitPattern: destination)) }
        }
        buffer.writeDecimal(time); buffer.writeInteger(tab)
        buffer.writeDecimal(Int64(row.route)); buffer.writeInteger(tab)
        buffer.writeText(row.language)
        buffer.writeInteger(UInt8(10))
        rows += 1
        inChunk += 1
        if inChunk >= chunkRows { try flush() }
    }

    private func flush() throws(JournalError) {
        guard inChunk > 0 else { return }
        let data = buffer
        try journal.importing(cid) { try journal.session.copy(into: "message", columns: Self.columns, data: data) }
        buffer.clear()
        inChunk = 0
    }

    @discardableResult
    func finish() throws(JournalError) -> Int {
        try flush()
        // The rows whose number was flagged, ranked by line within each number (one scan, a
        // hashed set of the flagged numbers); every row after the first of its number is a
        // repeat. Only the repeats come back, summed by region: the flagged rows can be
        // millions (the filter's false positives at 10M rows), and were all read into this
        // process before (925 MB at 10M). The statement (its array of numbers encoded) is made
        // before the transaction begins: made inside, it kept the transaction waiting on its
        // own client past the idle timeout, and the server ended it at every try (400k rows,
        // debug build: the import started over for good).
        let markRepeats: PostgresQuery? = suspects.isEmpty ? nil :
            """
            WITH moved AS (
                UPDATE message m SET state = \(Int16(BulkRule.Duplicate.state.rawValue)),
                    reason = \(BulkRule.Duplicate.reason.rawValue),
                    detail = \(BulkRule.Duplicate.detailPrefix) || f.first
                FROM (SELECT row, min(row) OVER (PARTITION BY dest) AS first FROM message
                      WHERE cid = \(cid) AND state = \(MessageState.pending)
                          AND dest IN (SELECT unnest(\(suspects)::int8[]))) AS f
                WHERE m.cid = \(cid) AND m.row = f.row AND f.row <> f.first
                RETURNING m.region, m.cost)
            SELECT region, count(*), sum(cost)::int8 FROM moved GROUP BY region
            """
        suspects = []
        let count = try journal.importing(cid) {
            try journal.session.transaction {
                var duplicates = 0
                // A copy: a transaction tried again starts from the rows' own counters.
                var counters = report
                if let markRepeats {
                    // Hash joins only: the rows just copied are not in the planner's statistics yet,
                    // and with another campaign's rows in the table it estimated this campaign's at
                    // one and nested the loops (every row against every flagged row: a 1M-row
                    // import into a journal holding earlier campaigns took 3 minutes here, past the
                    // idle timeout, and the import started over; 0.5 s hashed).
                    try journal.session.query("SET LOCAL enable_nestloop = off")
                    let moved = try journal.session.query(markRepeats)
                    for row in moved {
                        let region = try row.cells.string(0), rows = Int(try row.cells.int64(1)), cost = try row.cells.int64(2)
                        counters.add(.pending, region: region, cost: cost, at: time, rows: rows, sign: -1)
                        counters.add(BulkRule.Duplicate.state, region: region, cost: cost, at: time, rows: rows)
                        duplicates += rows
                    }
                }
                var tally = TallyChanges()
                tally.add(TallyKey(.pending), pending)
                for (reason, n) in skipped { tally.add(TallyKey(.skipped, reason), n) }
                tally.merge(BulkRule.Duplicate.move(duplicates))
                var upserts = CounterUpserts()
                tally.add(cid: cid, to: &upserts)
                counters.add(cid: cid, to: &upserts)
                try upserts.run(journal.session)
                try journal.session.query(
                    """
                    UPDATE campaign
                    SET state = \(literal: CampaignState.ready), total_rows = \(rows), updated_at = \(journal.currentTime())
                    WHERE cid = \(cid)
                    """)
                return duplicates
            }
        }
        // Fresh statistics, so that claims are planned for the rows just loaded (autovacuum
        // would get there, after a while of slow plans).
        // Only the columns claims filter and sort on: sampling the bodies would cost more than the rest.
        _ = try? journal.session.query("ANALYZE message (cid, row, state, not_before, owner)")
        journal.endImport(cid: cid)
        return count
    }

    func abandon() {
        buffer.clear()
        inChunk = 0
    }
}

extension PostgresJournal {
    public func makeImporter(cid: Int64) throws(JournalError) -> any RowImporter { PostgresImporter(journal: self, cid: cid) }
}

extension ByteBuffer {
    /// `COPY` text format: `\N` is NULL.
    mutating func writeNull() {
        writeInteger(UInt8(ascii: "\\"))
        writeInteger(UInt8(ascii: "N"))
    }

    mutating func writeDecimal(_ value: Int64) {
        if value < 0 { writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[19 - count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[(20 - count)..<20]))
        }
    }

    mutating func writeText(_ text: String?) {
        guard var text else { return writeNull() }
        text.withUTF8 { writeEscaped($0) }
    }

    /// Bytes with COPY's escapes for backslash, tab, newline and carriage return.
    mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in bytes.indices {
            let byte = bytes[index]
            let escaped: UInt8
            switch byte {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case 9: escaped = UInt8(ascii: "t")
            case 10: escaped = UInt8(ascii: "n")
            case 13: escaped = UInt8(ascii: "r")
            default: continue
            }
            writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            writeInteger(UInt8(ascii: "\\"))
            writeInteger(escaped)
            start = index + 1
        }
        writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
    }
}
