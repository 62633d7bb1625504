import Foundation
import HeraldCore
import Testing
@testable import HeraldEngine

/// `estimate` checks rows on several threads and counts what depends on earlier rows in file
/// order: every figure is the one a single thread gives (duplicates, the limit's stop line,
/// UCS-2 characters and their first lines, per-recipient lines), over many CSV batches.
@Suite struct ParallelEstimateTests {
    @Test func severalThreadsGiveTheFiguresOfOne() throws {
        var csv = "phone,name,code,points\n"
        for index in 0..<30_000 {
            // Every 7th row repeats an earlier number; every 11th name is UCS-2; every 97th row is bad.
            let number = index % 7 == 6 ? index - 3 : index
            let name = index % 11 == 0 ? "Zoë’\(index)" : index % 13 == 0 ? "Ω\(index)" : "Name\(index)"
            let phone = index % 97 == 0 ? "+44 12" : "+44 7700 \(900000 + number % 100_000)"
            csv += "\(phone),\(name),C\(String(format: "%03d", index % 1000)),\(index)\n"
        }
        let fixture = try Fixture(rows: csv, extra: "prices: prices.csv\nbudget: {campaign_limit: 900.00}")
        try "country,channel,price\nGB,sms,0.04\n".write(to: fixture.folder.appendingPathComponent("prices.csv"), atomically: true,
                                                         encoding: .utf8)
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func figures(_ workers: Int) throws -> (String, String) {
            let lines = fixture.folder.appendingPathComponent("per-recipient-\(workers).csv").path
            var estimate = try plan.estimate(journalPath: nil, perRecipient: lines, workers: workers)
            estimate.finishesAt = nil
            estimate.durationSeconds = nil
            return (String(decoding: try encoder.encode(estimate), as: UTF8.self), try String(contentsOfFile: lines, encoding: .utf8))
        }
        let one = try figures(1)
        #expect(one.0.contains("\"duplicates\":") && one.0.contains("U+2019") && one.0.contains("stops_at_line"), "\(one.0.prefix(600))")
        for workers in [2, 3] {
            let many = try figures(workers)
            #expect(many.0 == one.0, "\(workers) threads")
            #expect(many.1 == one.1, "\(workers) threads: the per-recipient lines")
        }
    }
}
