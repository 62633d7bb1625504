import Foundation
import HeraldCore
import HeraldJournal
import HeraldTestSupport
import Testing

/// The report's counters on both stores: whatever happens to a campaign (duplicates, invalid
/// rows, suppressed numbers, every kind of answer, receipts in any order, a cancel), the
/// counters equal what each store's recount of the rows says (`doctor`). SQLite's
/// `ReportCounterTests` also checks them against a report computed with SQL over every row.
@Suite struct ReportCounterContractTests {
    @Test(arguments: Store.allCases, [1, 2, 3] as [UInt64])
    func countersFollowEveryChangeAndAgreeWithTheRows(_ store: Store, seed: UInt64) throws {
        guard let fixture = try Fixture(store) else { return }
        var random = SplitMix64(seed: seed)
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try ReportCounterScript.importRows(try journal.makeImporter(cid: cid), rows: 400, random: &random)
        try ReportCounterScript.run(journal, cid: cid, owner: owner, random: &random) { stage in
            let drift = try journal.checkCounters(cid: cid)
            #expect(drift.isEmpty, "\(stage): \(drift.prefix(5))")
        }
        let report = try journal.reportAggregates(cid: cid, examplesPerReason: 0)
        #expect(report.countries.reduce(0) { $0 + $1.sent } == (try journal.counts(cid: cid))[.sent])
    }
}
