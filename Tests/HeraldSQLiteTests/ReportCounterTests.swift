import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite
import HeraldTestSupport

/// SQLite only: the report's counters against an oracle written in SQLite's SQL (the same script runs on both
/// stores against their own recounts: `ReportCounterContractTests`). Whatever happens to a campaign (duplicates,
/// invalid rows, suppressed numbers, every kind of answer, receipts in any order, a cancel),
/// the counters equal what the rows say, and the report drawn from them equals a report
/// computed the slow way, with SQL over every row.
@Suite struct ReportCounterTests {
    /// A campaign of `rows` rows: some invalid, some repeating an earlier number, four regions,
    /// imported in batches of 7 rows.
    func campaign(_ journal: Journal, rows: Int, owner: LeaseOwner = LeaseOwner(), random: inout SplitMix64) throws -> Int64 {
        let cid = cid(of: try open(journal, owner: owner))
        defer { journal.endImport() }
        try ReportCounterScript.importRows(journal.importWriter(cid: cid, batchSize: 7), rows: rows, random: &random)
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
        try ReportCounterScript.run(journal, cid: cid, owner: owner, random: &random) { stage in
            try expectAgreement(journal, cid: cid, stage)
        }
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
