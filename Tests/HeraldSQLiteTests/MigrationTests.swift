import Foundation
import HeraldCore
import Synchronization
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// SQLite only: its migrations from journals earlier releases wrote (PostgreSQL journals began
/// at a later schema; its named migrations run in every PostgreSQL test).
/// A v3 journal written by the v3 release (Tests/HeraldCLITests/Fixtures/journal-v3)
/// opens, migrates to v4 in place and keeps every row, reason and amount.
@Suite struct MigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../HeraldCLITests/Fixtures/journal-v3/journal.sqlite").standardizedFileURL.path

    func copyOfFixture() throws -> String {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
        return path
    }

    func version(_ path: String) throws -> Int {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        let statement = try db.statement("PRAGMA user_version")
        _ = try statement.step()
        defer { statement.reset() }
        return statement.int(0)
    }

    @Test func v3JournalMigratesWithModesReasonsAndCounters() throws {
        let path = try copyOfFixture()
        #expect(try version(path) == 3)
        let journal = try Journal(path: path)
        #expect(try version(path) == Journal.schemaVersion)
        let records = try journal.campaigns()
        #expect(Set(records.map(\.name)) == ["v3", "v3@dry-run", "v3-aws", "v3-aws@simulation"])
        for record in records {
            #expect(try journal.checkCounters(cid: record.cid).isEmpty, "\(record.name)")
            #expect(record.stopKind == (record.mode == .dryRun ? nil : .limit), "\(record.name)")
            #expect(record.sender == .run)
        }
        let aws = try #require(try journal.campaign(id: "v3-aws"))
        #expect(aws.mode == .real && aws.channel == .sms && aws.ledgerScope == .real)
        let counts = try journal.counts(cid: aws.cid)
        #expect(counts[.inDoubt] == 7 && counts[.sent] == 13 && counts[.pending] == 21)
        #expect(counts.inDoubtByReason == [.lostAnswer: 7], "v3's `indeterminate` is now lost_answer")
        // v5: the simulator's references are cleared; AWS message ids stay, indexed for receipts.
        let refs = try journal.db.statement(
            "SELECT count(*) FILTER (WHERE provider_ref LIKE 'sim-%'), count(*) FILTER (WHERE provider_ref IS NOT NULL) FROM message")
        _ = try refs.step()
        #expect(refs.int(0) == 0 && refs.int(1) >= 13, "AWS rows keep their MessageId")
        refs.reset()
        let aws2 = try #require(try journal.campaign(id: "v3-aws"))
        let matched = try journal.recordReceipts([DeliveryEvent(
            source: .aws, type: "TEXT_DELIVERED", match: .row(campaign: "v3-aws", row: 2, reference: nil), state: .delivered, raw: "{}")])
        let delivered = try journal.deliverySummary(cid: aws2.cid)[.delivered]
        #expect(matched.matched == 1 && delivered == 1)
        let simulation = try #require(try journal.campaign(id: "v3-aws", mode: .simulation))
        #expect(simulation.ledgerScope == .simulated)
        let dryRun = try #require(try journal.campaign(id: "v3", mode: .dryRun))
        #expect(try journal.counts(cid: dryRun.cid).byReason[.transient] == 5)
        // Claims start at the first pending row, not at line 2.
        let v3 = try #require(try journal.campaign(id: "v3"))
        var cursor = ClaimCursor()
        let owner = LeaseOwner()
        guard case .ready = try journal.open(
            CampaignInputs(id: "v3", campaignPath: v3.campaignPath, templateSHA: v3.templateSHA, recipientsSHA: v3.recipientsSHA,
                           channel: .sms, ledgerScope: .simulated), owner: owner, recipientsPath: "r", templatePath: "t")
        else {
            Issue.record("the migrated campaign opens ready")
            return
        }
        let claimed = try journal.step(cid: v3.cid, owner: owner, settle: [], claim: 100, cursor: &cursor).claimed
        #expect(claimed.count == 28, "27 pending and 1 due retry")
        #expect(try journal.checkCounters(cid: v3.cid).isEmpty)
    }

    @Test func v3StopReasonsBecomeSenderAndStopKind() throws {
        let path = try copyOfFixture()
        do {
            // As v3 wrote them: a worker's campaign stopped by SIGTERM, one stopped by the budget.
            let db = try SQLiteDatabase(path: path, readOnly: false)
            try db.execute("UPDATE campaign SET stop_reason = 'signal 15 (worker)' WHERE id = 'v3'")
            try db.execute("UPDATE campaign SET stop_reason = 'campaign_limit', state = 'budget_exhausted' WHERE id = 'v3-aws'")
        }
        let journal = try Journal(path: path)
        let worker = try #require(try journal.campaign(id: "v3"))
        #expect(worker.sender == .worker && worker.stopKind == .signal && worker.stopReason == "signal 15")
        let budget = try #require(try journal.campaign(id: "v3-aws"))
        #expect(budget.sender == .run && budget.stopKind == .budget)
    }

    @Test func aJournalNewerThanTheBinaryIsLeftUntouched() throws {
        let path = try copyOfFixture()
        do {
            let db = try SQLiteDatabase(path: path, readOnly: false)
            try db.execute("PRAGMA user_version=\(Journal.schemaVersion + 1)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: JournalError.self) { try Journal(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}

/// Processes (a sender, `herald serve`, `herald receipts url`) opening the same new journal
/// at once: each finds it migrated under the write lock, or reads its version and tables in
/// one snapshot, instead of failing (CI once saw a sender fail so beside `herald serve`).
@Suite struct ConcurrentOpenTests {
    @Test func connectionsCreatingOneJournalAtOnceAllSucceed() throws {
        for _ in 0..<200 {
            let path = temporaryJournalPath()
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { index in
                // Staggered starts: a later opener reads the file while an earlier one migrates.
                usleep(UInt32.random(in: 0...(index == 0 ? 0 : 30_000)))
                do {
                    _ = try Journal(path: path)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try Journal(path: path).campaigns().isEmpty)
        }
    }
}
