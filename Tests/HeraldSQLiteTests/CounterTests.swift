import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// SQLite only: drift made by editing the tables by hand. Every other counter test runs on
/// both stores (`CounterContractTests`, `MaintenanceContractTests`).
let dollar: Int64 = 1_000_000_000

/// Imports rows 2...count+1 with a cost per CSV line.
func importCosted(_ journal: Journal, cid: Int64, numbers: [UInt64?], costs: (Int) -> Int64) throws {
    let writer = journal.importWriter(cid: cid, batchSize: 4)
    defer { journal.endImport() }
    var body = Array("hello".utf8)
    try body.withUnsafeMutableBufferPointer { buffer in
        for (index, number) in numbers.enumerated() {
            var row = ImportedRow(row: index + 2, destination: number, region: "GB", body: UnsafeBufferPointer(buffer),
                                  skipReason: number == nil ? .badNumber : nil)
            row.cost = costs(index + 2)
            try writer.add(row)
        }
    }
    _ = try writer.finish()
}

@Suite struct CounterTests {
    @Test func doctorFindsAndRepairsDrift() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let cid = cid(of: try open(journal))
        try importRows(journal, cid: cid, numbers: (1...5).map { 447700900000 + $0 })
        try journal.db.execute("UPDATE tally SET n = n + 2 WHERE state = \(MessageState.pending.sql)")
        try journal.db.execute("UPDATE campaign SET pending_after = 4")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.map(\.what).contains("rows pending"))
        #expect(drift.contains { $0.what.hasPrefix("pending rows before line 5") && $0.fromRows == 3 })
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        #expect(try journal.counts(cid: cid)[.pending] == 5)
    }
}
