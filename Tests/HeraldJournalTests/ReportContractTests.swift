import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// `herald report` on both stores: the same script of imports, skips, answers and a cancel
/// gives the same report counters, read in constant time, and `doctor` finds and repairs
/// drift in them.
@Suite struct ReportContractTests {
    /// Rows 2...21: even lines in GB, odd in US, line N costs N millidollars; line 5 is not a
    /// number, line 9 repeats line 3's number.
    func importScript(_ journal: any CampaignJournal, cid: Int64) throws {
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for line in 2...21 {
                let number: UInt64? = line == 5 ? nil : 447_700_900_000 + UInt64(line == 9 ? 3 : line)
                var row = ImportedRow(row: line, destination: number, region: line % 2 == 0 ? "GB" : "US",
                                      body: UnsafeBufferPointer(buffer), skipReason: number == nil ? .badNumber : nil,
                                      skipDetail: number == nil ? "not a number" : nil)
                row.cost = Int64(line) * 1_000_000
                try writer.add(row)
            }
        }
        #expect(try writer.finish() == 1)
    }

    @Test(arguments: Store.allCases)
    func theSameScriptGivesTheSameReport(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = try openCampaign(journal, owner: owner).cid
        try importScript(journal, cid: cid)
        _ = try journal.suppress([SuppressionEntry(destination: 447_700_900_007, reason: "asked", source: .manual, addedAt: 1)])
        let claimed = try step(journal, cid: cid, owner: owner, claim: 10).claimed
        // Ten candidates looked at: the suppressed line 7 among them.
        #expect(claimed.map(\.row) == [2, 3, 4, 6, 8, 10, 11, 12, 13])
        let outcomes: [Int: Settlement] = [
            4: Settlement(row: 4, state: .failed, reason: .rejected, detail: "no"),
            6: Settlement(row: 6, state: .skipped, reason: .maxPrice, detail: "too dear"),
            8: Settlement(row: 8, state: .inDoubt, reason: .lostAnswer, detail: "timeout"),
            11: Settlement(row: 11, state: .retry, reason: .transient, notBefore: 4_000_000_000_000),
            13: Settlement(row: 13, state: .failed, reason: .optedOut, detail: "opted out"),
        ]
        _ = try step(journal, cid: cid, owner: owner, settle: claimed.map {
            (outcomes[$0.row] ?? Settlement(row: $0.row, state: .sent, providerRef: "m-\($0.row)")).settling($0)
        }, claim: 0)
        #expect(try journal.request(.cancel, campaign: campaignInputs.id, mode: campaignInputs.mode))

        let report = try journal.reportAggregates(cid: cid, examplesPerReason: 3)
        let countries = Dictionary(uniqueKeysWithValues: report.countries.map { ($0.region, $0) })
        // Sent: 2, 10, 12 (GB) and 3 (US). Not skipped: 2, 4, 8, 10, 12 (GB) and 3, 13 (US).
        #expect(report.countries.map(\.region) == ["GB", "US"])
        #expect(countries["GB"]?.sent == 3 && countries["GB"]?.spent == 24_000_000 && countries["GB"]?.estimated == 36_000_000)
        #expect(countries["US"]?.sent == 1 && countries["US"]?.spent == 3_000_000 && countries["US"]?.estimated == 16_000_000)
        #expect(countries["GB"]?.reported == nil && countries["GB"]?.delivered == 0)
        #expect(report.estimated == 52_000_000)
        #expect(report.sends.values.reduce(0, +) == 4 && report.bucketMilliseconds == 60_000)
        #expect(report.examples == [
            Reason.badNumber.rawValue: [5], Reason.duplicate.rawValue: [9], Reason.suppressed.rawValue: [7],
            Reason.maxPrice.rawValue: [6], Reason.rejected.rawValue: [4], Reason.optedOut.rawValue: [13],
            Reason.lostAnswer.rawValue: [8], Reason.cancelled.rawValue: [11, 14, 15],
        ])
        var lines: [Int] = []
        try journal.forEachRecipient(cid: cid) { lines.append($0.row) }
        #expect(lines == Array(2...21))
        #expect(try journal.checkCounters(cid: cid).isEmpty)

        // Counters moved behind the journal's back are found, and rebuilt from the rows.
        try MaintenanceContractTests().corrupt(fixture, journal, "UPDATE report_country SET sent = sent + 4 WHERE region = 'GB'")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.map(\.what) == ["report GB sent"] && drift.first?.counted == 7 && drift.first?.fromRows == 3, "\(drift)")
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        #expect(try journal.reportAggregates(cid: cid, examplesPerReason: 3).countries.first?.sent == 3)
    }
}
