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

@Suite struct JournalTests {
    @Test func newCampaignNeedsImportThenIsReady() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        guard case .needsImport(let cid) = try open(journal, owner: owner) else {
            Issue.record("a new campaign needs its rows")
            return
        }
        let duplicates = try importRows(journal, cid: cid, numbers: [447700900001, nil, 447700900002, 447700900001, 447700900003])
        #expect(duplicates == 1)
        let counts = try journal.counts(cid: cid)
        #expect(counts[.pending] == 3)
        #expect(counts[.skipped] == 2)
        #expect(counts.byReason == [.badNumber: 1, .duplicate: 1])
        try journal.release(cid: cid, owner: owner, state: .ready)
        guard case .ready(_, let inDoubt) = try open(journal) else {
            Issue.record("an imported campaign opens ready")
            return
        }
        #expect(inDoubt == 0)
    }

    @Test func claimSettleAndRecoverInDoubt() throws {
        let path = temporaryJournalPath()
        let first = LeaseOwner(token: "first", pid: 999_999_99, host: LeaseOwner().host)
        var journal = try Journal(path: path)
        let cid = cid(of: try open(journal, owner: first))
        try importRows(journal, cid: cid, numbers: (1...10).map { 447700900000 + $0 })
        var cursor = ClaimCursor()
        let batch = try journal.step(cid: cid, owner: first, settle: [], claim: 4, cursor: &cursor).claimed
        #expect(batch.map(\.row) == [2, 3, 4, 5])
        #expect(batch[0].destination == 447700900001)
        #expect(batch[0].body == "hello")
        let settled = [
            Settlement(row: 2, state: .sent, providerRef: "m-2"),
            Settlement(row: 3, state: .failed, reason: .rejected, detail: "opted out"),
            Settlement(row: 4, state: .retry, reason: .throttled, notBefore: 0, countsAttempt: false),
        ]
        let next = try journal.step(cid: cid, owner: first, settle: settled, claim: 2, cursor: &cursor).claimed
        #expect(next.map(\.row) == [4, 6], "a due retry comes before pending rows")
        var counts = try journal.counts(cid: cid)
        #expect(counts[.sent] == 1 && counts[.failed] == 1 && counts[.sending] == 3 && counts[.pending] == 5)

        // The process "dies" (its pid does not exist): the next opener finds 3 rows in doubt.
        journal = try Journal(path: path)
        guard case .ready(_, let inDoubt) = try open(journal) else {
            Issue.record("expected ready")
            return
        }
        #expect(inDoubt == 3)
        counts = try journal.counts(cid: cid)
        #expect(counts[.inDoubt] == 3 && counts[.sending] == 0)
        #expect(try journal.rows(cid: cid, in: .inDoubt, limit: 10).map(\.row) == [4, 5, 6])
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: true) == 3)
        counts = try journal.counts(cid: cid)
        #expect(counts[.retry] == 3 && counts[.inDoubt] == 0)
    }

    @Test func claimsNeverReturnARowTwice() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: (1...50).map { 447700900000 + $0 })
        var cursor = ClaimCursor()
        var seen: [Int] = []
        var settle: [Settlement] = []
        while true {
            let batch = try journal.step(cid: cid, owner: owner, settle: settle, claim: 7, cursor: &cursor).claimed
            if batch.isEmpty { break }
            seen += batch.map(\.row)
            settle = batch.map { Settlement(row: $0.row, state: .sent) }
        }
        #expect(seen == Array(2...51))
        #expect(try journal.counts(cid: cid)[.sent] == 50)
    }

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

    @Test func changedInputsAreRefusedOnceSendingStarted() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: [447700900001, 447700900002])
        try journal.release(cid: cid, owner: owner, state: .ready)
        var changed = inputs
        changed.recipientsSHA = "r2"
        // Nothing sent yet: the new CSV is imported afresh.
        guard case .needsImport = try open(journal, owner: owner, changed) else {
            Issue.record("an unstarted campaign re-imports a changed CSV")
            return
        }
        try importRows(journal, cid: cid, numbers: [447700900003])
        var cursor = ClaimCursor()
        _ = try journal.step(cid: cid, owner: owner, settle: [], claim: 1, cursor: &cursor)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        changed.templateSHA = "t2"
        let error = #expect(throws: JournalError.self) { try open(journal, owner: owner, changed) }
        #expect(error?.isInputChange == true)
        #expect(error?.description.contains("t.yaml: the template changed") == true)
        #expect(try journal.counts(cid: cid).total == 1, "nothing was lost")
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

    @Test func discardedImportLeavesNoTrace() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let cid = cid(of: try open(journal))
        try journal.discardImport(cid: cid)
        #expect(try journal.campaign(id: inputs.id) == nil)
    }
}
