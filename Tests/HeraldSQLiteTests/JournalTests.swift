import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

func temporaryJournalPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("herald-journal-\(UUID().uuidString)/journal.sqlite").path
}

let inputs = CampaignInputs(id: "spring", campaignPath: "/c.yaml", templateSHA: "t1", recipientsSHA: "r1", channel: .sms)

/// Imports rows 2...count+1 (CSV lines) with numbers from `numbers`, nil for a skipped row.
@discardableResult
func importRows(_ journal: Journal, cid: Int64, numbers: [UInt64?]) throws -> Int {
    let writer = journal.importWriter(cid: cid, batchSize: 3)
    defer { journal.endImport() }
    var body = Array("hello".utf8)
    try body.withUnsafeMutableBufferPointer { buffer in
        for (index, number) in numbers.enumerated() {
            try writer.add(ImportedRow(row: index + 2, destination: number, region: "GB", body: UnsafeBufferPointer(buffer),
                                       skipReason: number == nil ? .badNumber : nil, skipDetail: nil))
        }
    }
    return try writer.finish()
}

func open(_ journal: Journal, owner: LeaseOwner = LeaseOwner(), _ campaign: CampaignInputs = inputs) throws -> CampaignOpening {
    try journal.open(campaign, owner: owner, recipientsPath: "r.csv", templatePath: "t.yaml")
}

func cid(of opening: CampaignOpening) -> Int64 { opening.cid }

/// SQLite only: its file (not a database, a newer schema, missing) and its one-host lease.
/// Everything else a journal does runs on both stores (`Tests/HeraldJournalTests`).
@Suite struct JournalTests {
    @Test func liveLeaseRefusesASecondSender() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let me = LeaseOwner()
        _ = try open(journal, owner: me)
        // Same host, a process that exists (this one), a different token: live.
        let other = LeaseOwner(token: "other")
        let error = #expect(throws: JournalError.self) { try open(journal, owner: other) }
        #expect(error?.isLeaseConflict == true)
        #expect(error?.description.contains("being sent by another herald") == true)
    }

    @Test func staleLeaseOnAnotherHostIsTakenOver() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let remote = LeaseOwner(token: "remote", pid: 1, host: "elsewhere")
        var clock: Int64 = 1_000_000
        journal.now = { clock }
        _ = try open(journal, owner: remote)
        #expect(throws: JournalError.self) { try open(journal, owner: LeaseOwner()) }
        clock += LeaseLiveness.staleAfterMilliseconds
        let taker = LeaseOwner()
        _ = try open(journal, owner: taker)
        // Fencing: the remote holder wakes and steps; nothing it says is recorded.
        var cursor = ClaimCursor()
        let error = #expect(throws: JournalError.self) {
            _ = try journal.step(cid: 1, owner: remote, settle: [Settlement(row: 2, state: .sent)], claim: 10, cursor: &cursor)
        }
        #expect(error?.isLeaseConflict == true && error?.description.contains("pid \(taker.pid)") == true, "\(String(describing: error))")
        #expect(try journal.heartbeat(cid: 1, owner: remote) == false)
        #expect(try journal.heartbeat(cid: 1, owner: taker))
    }

    /// On one host the holder's process says whether the lease is live: frozen (SIGSTOP,
    /// a suspended container) for longer than any heartbeat timeout, it keeps it.
    @Test func aFrozenHolderOnThisHostKeepsItsLease() throws {
        let journal = try Journal(path: temporaryJournalPath())
        var clock: Int64 = 1_000_000
        journal.now = { clock }
        let frozen = LeaseOwner(token: "frozen")  // this process: it exists
        _ = try open(journal, owner: frozen)
        clock += 10 * LeaseLiveness.staleAfterMilliseconds
        let error = #expect(throws: JournalError.self) { try open(journal, owner: LeaseOwner()) }
        #expect(error?.isLeaseConflict == true)
    }

    @Test func notADatabaseIsReportedAndLeftUntouched() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: JournalError.self) { try Journal(path: path) }
        #expect(error?.description.contains("not a Herald journal") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func newerSchemaIsRefused() throws {
        let path = temporaryJournalPath()
        _ = try Journal(path: path)
        do {
            let db = try SQLiteDatabase(path: path, readOnly: false)
            try db.execute("PRAGMA user_version=99")
        }
        let error = #expect(throws: JournalError.self) { try Journal(path: path) }
        #expect(error?.description.contains("schema version 99 is newer") == true)
    }

    @Test func missingJournalIsNotCreatedWhenNotAsked() {
        let path = temporaryJournalPath()
        #expect(throws: JournalError.self) { try Journal(path: path, create: false) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
