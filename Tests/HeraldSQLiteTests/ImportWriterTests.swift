import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// SQLite only: its own import writer's batching (PostgreSQL imports with COPY; both stores'
/// imports are held to the same counts in `JournalContractTests`).
/// The import writer puts rows in several to a statement (`ImportWriter.rowsPerInsert`):
/// every field lands on its own row, whatever the batch and group boundaries, with skipped
/// rows between sent ones and each body lent only for its call.
@Suite struct ImportWriterTests {
    @Test(arguments: [1, 63, 64, 65, 200, 1_000], [3, 64, 100, 20_000])
    func everyFieldLandsOnItsRow(rows: Int, batchSize: Int) throws {
        let journal = try Journal(path: temporaryJournalPath())
        let cid = cid(of: try open(journal))
        let writer = journal.importWriter(cid: cid, batchSize: batchSize)
        for index in 0..<rows {
            let skipped = index % 7 == 3
            // A body of its own for every call, freed right after it (the writer must copy it).
            var body = Array("message \(index) \(String(repeating: "é", count: index % 5))".utf8)
            try body.withUnsafeMutableBufferPointer { buffer in
                var row = ImportedRow(row: index + 2, destination: skipped ? nil : 447700900000 + UInt64(index),
                                      region: index % 2 == 0 ? "GB" : nil, body: UnsafeBufferPointer(buffer),
                                      skipReason: skipped ? .badNumber : nil, skipDetail: skipped ? "row \(index)" : nil)
                row.parts = 1 + index % 3
                row.cost = Int64(index) * 1_000
                row.timeZones = index % 4 == 0 ? "Europe/London" : nil
                try writer.add(row)
            }
            body = []
        }
        #expect(try writer.finish() == 0)
        journal.endImport()
        #expect(writer.rows == rows)
        let statement = try journal.db.statement(
            "SELECT row, state, dest, region, body, reason, detail, parts, cost, tz FROM message WHERE cid = ?1 ORDER BY row")
        statement.bind(1, cid)
        var seen = 0
        while try statement.step() {
            let index = seen
            let skipped = index % 7 == 3
            #expect(statement.int(0) == index + 2)
            #expect(statement.int(1) == (skipped ? MessageState.skipped : .pending).rawValue)
            #expect(statement.string(2) == (skipped ? nil : String(447700900000 + index)))
            #expect(statement.string(3) == (index % 2 == 0 ? "GB" : nil))
            #expect(statement.string(4) == (skipped ? nil : "message \(index) \(String(repeating: "é", count: index % 5))"))
            #expect(statement.string(5) == (skipped ? Reason.badNumber.rawValue : nil))
            #expect(statement.string(6) == (skipped ? "row \(index)" : nil))
            #expect(statement.int(7) == 1 + index % 3 && statement.int64(8) == Int64(index) * 1_000)
            #expect(statement.string(9) == (index % 4 == 0 ? "Europe/London" : nil))
            seen += 1
        }
        statement.reset()
        #expect(seen == rows)
        let counts = try journal.counts(cid: cid)
        let skipped = (0..<rows).filter { $0 % 7 == 3 }.count
        #expect(counts[.pending] == rows - skipped && counts[.skipped] == skipped)
    }

    @Test func anAbandonedImportLeavesNoRowsOfItsOpenBatch() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let cid = cid(of: try open(journal))
        let writer = journal.importWriter(cid: cid, batchSize: 100)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<150 {
                try writer.add(ImportedRow(row: index + 2, destination: 447700900000 + UInt64(index), region: "GB",
                                           body: UnsafeBufferPointer(buffer)))
            }
        }
        writer.abandon()
        let statement = try journal.db.statement("SELECT count(*) FROM message WHERE cid = ?1")
        statement.bind(1, cid)
        #expect(try statement.step() && statement.int(0) == 100, "the first batch was committed, the open one rolled back")
        statement.reset()
    }
}
