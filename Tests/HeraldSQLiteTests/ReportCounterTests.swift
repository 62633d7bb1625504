import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// SQLite only: the report's counters against an oracle written in SQLite's SQL (the same script runs on both
/// stores against their own recounts: `ReportCounterContractTests`). Whatever happens to a campaign (duplicates,
/// invalid rows, suppressed numbers, every kind of answer, receipts in any order, a cancel),
/// the counters equal what the rows say, and the report drawn from them equals a report
/// computed the slow way, with SQL over every row.
@Suite struct ReportCounterTests {
    static let regions: [String?] = ["GB", "US", "FR", nil]

    /// A campaign of `rows` rows: some invalid, some repeating an earlier number, four regions.
    func campaign(_ journal: Journal, rows: Int, owner: LeaseOwner = LeaseOwner(), random: inout SplitMix64) throws -> Int64 {
        let cid = cid(of: try open(journal, owner: owner))
        let writer = journal.importWriter(cid: cid, batchSize: 7)
        defer { journal.endImport() }
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<rows {
                let invalid = Int.random(in: 0..<10, using: &random) == 0
                let repeated = index > 10 && Int.random(in: 0..<10, using: &random) == 0
                let number: UInt64? = invalid ? nil : 447700900000 + UInt64(repeated ? Int.random(in: 0..<index, using: &random) : index)
                var row = ImportedRow(row: index + 2, destination: number, region: Self.regions[index % 4],
                                      body: UnsafeBufferPointer(buffer), skipReason: invalid ? .badNumber : nil)
                row.cost = Int64.random(in: 1...90, using: &random) * 1_000_000
                try writer.add(row)
            }
        }
        _ = try writer.finish()
        return cid
    }

    /// The report the slow way: SQL over every row, written independently of the rule.
    func reportFromSQL(_ journal: Journal, cid: Int64) throws -> (sends: [Int64: Int], deliveries: [Int64: Int],
                                                               countries: [String: ReportCounters.Country]) {
        let bucket = try journal.reportAggregates(cid: cid).bucketMilliseconds
        var sends: [Int64: Int] = [:], deliveries: [Int64: Int] = [:]
        var countries: [String: ReportCounters.Country] = [:]
        let statements: [(String, (Statement) -> Void)] = [
            ("SELECT updated_at / 60000 * 60000 / \(bucket) * \(bucket), count(*) FROM message WHERE cid = ?1 AND state = 2 GROUP BY 1",
             { sends[$0.int64(0)] = $0.int(1) }),
            ("""
             SELECT event_at / 60000 * 60000 / \(bucket) * \(bucket), count(*) FROM delivery
             WHERE cid = ?1 AND state IN ('delivered', 'fallback') GROUP BY 1
             """, { deliveries[$0.int64(0)] = $0.int(1) }),
            ("""
             SELECT coalesce(region, '?'), count(*) FILTER (WHERE state = 2), coalesce(sum(cost) FILTER (WHERE state = 2), 0),
                 coalesce(sum(cost) FILTER (WHERE state != 4), 0)
             FROM message WHERE cid = ?1 GROUP BY 1
             """, {
                 countries[$0.string(0)!, default: .init()].sent = $0.int(1)
                 countries[$0.string(0)!, default: .init()].spent = $0.int64(2)
                 countries[$0.string(0)!, default: .init()].estimated = $0.int64(3)
             }),
            ("""
             SELECT coalesce(m.region, '?'), count(*) FILTER (WHERE d.state IN ('delivered', 'fallback')),
                 coalesce(sum(d.price), 0), count(d.price)
             FROM delivery AS d JOIN message AS m ON m.cid = d.cid AND m.row = d.row WHERE d.cid = ?1 GROUP BY 1
             """, {
                 countries[$0.string(0)!, default: .init()].delivered = $0.int(1)
                 countries[$0.string(0)!, default: .init()].reported = $0.int64(2)
                 countries[$0.string(0)!, default: .init()].priced = $0.int(3)
             }),
        ]
        for (sql, read) in statements {
            let statement = try journal.db.statement(sql)
            statement.bind(1, cid)
            while try statement.step() { read(statement) }
            statement.reset()
        }
        return (sends, deliveries, countries.filter { !$0.value.isZero })
    }

    func expectAgreement(_ journal: Journal, cid: Int64, _ stage: String) throws {
        let pair = try journal.reportCounterPair(cid: cid)
        let drift = ReportCounters.drift(counted: pair.kept, fromRows: pair.fromRows)
        #expect(drift.isEmpty, "\(stage): \(drift.prefix(5))")
        #expect(try journal.checkCounters(cid: cid).isEmpty, "\(stage)")
        let report = try journal.reportAggregates(cid: cid)
        let expected = try reportFromSQL(journal, cid: cid)
        #expect(report.sends == expected.sends, "\(stage): sends per bucket")
        #expect(report.deliveries == expected.deliveries, "\(stage): deliveries per bucket")
        var countries: [String: ReportCounters.Country] = [:]
        for country in report.countries {
            countries[country.region] = .init(sent: country.sent, delivered: country.delivered, spent: country.spent,
                                              estimated: country.estimated, reported: country.reported ?? 0,
                                              priced: country.reported == nil ? 0 : expected.countries[country.region]?.priced ?? 0)
        }
        #expect(countries == expected.countries, "\(stage): countries")
        #expect(report.estimated == expected.countries.values.reduce(0) { $0 + $1.estimated })
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func countersFollowEveryChangeAndAgreeWithTheRows(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let journal = try Journal(path: temporaryJournalPath())
        let owner = LeaseOwner()
        let cid = try campaign(journal, rows: 400, owner: owner, random: &random)
        try expectAgreement(journal, cid: cid, "after import")
        _ = try journal.suppress((0..<12).map {
            SuppressionEntry(destination: 447700900000 + UInt64($0 * 17), scope: "", reason: "asked", source: .manual, addedAt: 1)
        })
        guard case .ready = try open(journal, owner: owner) else {
            Issue.record("the campaign opens ready")
            return
        }
        var cursor = ClaimCursor()
        var unsettled: [ClaimedMessage] = []
        for round in 0..<12 {
            let settle = unsettled.map { message -> Settlement in
                let outcome: Settlement
                switch Int.random(in: 0..<12, using: &random) {
                case 0: outcome = Settlement(row: message.row, state: .failed, reason: .rejected, detail: "no")
                case 1: outcome = Settlement(row: message.row, state: .failed, reason: .optedOut, detail: "opted out")
                case 2: outcome = Settlement(row: message.row, state: .skipped, reason: .maxPrice, detail: "too dear")
                case 3: outcome = Settlement(row: message.row, state: .inDoubt, reason: .lostAnswer, detail: "timeout")
                case 4: outcome = Settlement(row: message.row, state: .retry, reason: .transient, notBefore: 0)
                case 5: outcome = Settlement(row: message.row, state: .retry, reason: .throttled, notBefore: 4_000_000_000_000)
                default: outcome = Settlement(row: message.row, state: .sent, providerRef: "ref-\(message.row)")
                }
                return outcome.settling(message)
            }
            unsettled = try journal.step(cid: cid, owner: owner, settle: settle, claim: round < 10 ? 25 : 0, cursor: &cursor).claimed
            try expectAgreement(journal, cid: cid, "after round \(round)")
            // Receipts for random rows of any state, at times over nine hours (hour buckets).
            var events: [DeliveryEvent] = []
            for _ in 0..<20 {
                let row = Int.random(in: 2...401, using: &random)
                let state: DeliveryState? = [.delivered, .fallback, .undelivered, .pending, nil].randomElement(using: &random)!
                let price = Bool.random(using: &random) ? Money(nanos: Int64.random(in: 1...50, using: &random) * 1_000_000) : nil
                events.append(DeliveryEvent(
                    source: .agile, type: state?.rawValue ?? "READ", match: .row(campaign: "spring", row: row, reference: nil),
                    state: state, read: state == nil, code: state == .undelivered ? "6" : nil,
                    at: 1_780_000_000_000 + Int64.random(in: 0...(9 * 3_600_000), using: &random), price: price, raw: "{}"))
            }
            try journal.recordReceipts(events)
            try expectAgreement(journal, cid: cid, "after receipts of round \(round)")
        }
        let waiting = try journal.counts(cid: cid)
        #expect(waiting[.pending] > 0 && waiting[.retry] > 0, "the cancel has rows to skip")
        #expect(try journal.request(.cancel, campaign: "spring"))
        try expectAgreement(journal, cid: cid, "after cancel")
        // A repair from drifted counters puts them back as the rows say.
        try journal.db.execute("UPDATE report_country SET sent = sent + 3, estimated = 0 WHERE cid = \(cid)")
        try journal.db.execute("INSERT INTO report_minute (cid, minute, sent, delivered) VALUES (\(cid), 7, 1, 1)")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.contains { $0.what.hasPrefix("report ") && $0.what.hasSuffix(" sent") })
        #expect(drift.contains { $0.what == "report minute 420 sent" })
        try journal.repairCounters(cid: cid)
        try expectAgreement(journal, cid: cid, "after repair")
    }

    /// The report's examples are the first lines of each reason, in file order.
    @Test func examplesAreTheFirstLinesOfEachReason() throws {
        var random = SplitMix64(seed: 9)
        let journal = try Journal(path: temporaryJournalPath())
        let cid = try campaign(journal, rows: 200, random: &random)
        let report = try journal.reportAggregates(cid: cid, examplesPerReason: 3)
        for reason in [Reason.badNumber, .duplicate] {
            let statement = try journal.db.statement("SELECT row FROM message WHERE cid = ?1 AND reason = ?2 ORDER BY row LIMIT 3")
            statement.bind(1, cid).bind(2, reason.rawValue)
            var rows: [Int] = []
            while try statement.step() { rows.append(statement.int(0)) }
            statement.reset()
            #expect(!rows.isEmpty && report.examples[reason.rawValue] == rows, "\(reason)")
        }
    }
}
