import Foundation
import HeraldCore
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// The budget guard end to end, on the simulator, with the price book in `prices.csv`:
/// GB SMS at $0.04 a part, everything else unpriced.
@Suite struct BudgetRunTests {
    static let header = "phone,name,code,points\n"

    func fixture(rows: Int = 20, budget: String, provider: String = "{kind: simulator, outbox: outbox.jsonl}",
                 extraRows: String = "") throws -> Fixture {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(rows) + "\n" + extraRows, provider: provider,
                                  extra: "prices: prices.csv\nbudget: \(budget)")
        try "country,channel,price\nGB,sms,0.04\n".write(toFile: fixture.folder.appendingPathComponent("prices.csv").path,
                                                          atomically: true, encoding: .utf8)
        return fixture
    }

    @Test func campaignLimitStopsCleanlyAndRaisingItContinues() async throws {
        let fixture = try fixture(budget: "{campaign_limit: 0.40}")
        let first = try await fixture.runner().run()
        #expect(first.state == .budgetExhausted)
        #expect(first.stop == .budget(.campaign, nil))
        #expect(ExitStatus(for: first) == .budgetExhausted)
        #expect(first.counts[.sent] == 10, "exactly $0.40 of $0.04 messages")
        #expect(first.spent == Money("0.40"))
        #expect(try fixture.outbox().count == 10)
        // Raise the limit in the campaign file and resume.
        let text = try String(contentsOfFile: fixture.campaignPath, encoding: .utf8)
        try text.replacingOccurrences(of: "campaign_limit: 0.40", with: "campaign_limit: 1.00")
            .write(toFile: fixture.campaignPath, atomically: true, encoding: .utf8)
        let second = try await fixture.runner().run()
        #expect(second.state == .completed && second.counts[.sent] == 20)
        #expect(second.spent == Money("0.80"))
        #expect(Set(try fixture.outbox().map(\.key)).count == 20)
    }

    @Test func unpricedRowsAreSkippedAndPricedOnesSent() async throws {
        let long = String(repeating: "x", count: 20)
        let fixture = try fixture(
            rows: 3, budget: "{max_price: 0.05}",
            extraRows: "+1 202 555 0100,Ada,AB12,1\n+44 7700 900500,\(long),AB12,\(String(repeating: "9", count: 18))\n")
        let summary = try await fixture.runner().run()
        #expect(summary.counts.byReason[.noPrice] == 1)
        #expect(summary.counts[.sent] == 4)
        #expect(summary.spent == Money("0.16"))
    }

    @Test func maxPriceSkipsMultipartMessages() async throws {
        let template = Fixture.template.replacingOccurrences(
            of: "body: \"Hi <name>, code <code>, <points> points\"",
            with: "body: \"Hi <name>, code <code>, <points> points. \(String(repeating: "More text. ", count: 15))\"")
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(3) + "\n", extra: "prices: prices.csv\nbudget: {max_price: 0.04}",
                                  template: template)
        try "country,channel,price\nGB,sms,0.04\n".write(toFile: fixture.folder.appendingPathComponent("prices.csv").path,
                                                          atomically: true, encoding: .utf8)
        // validate and estimate agree before the run: nothing to send, three over max_price.
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let validation = try plan.validate()
        #expect(validation.overMaxPrice == 3 && validation.sendable == 0)
        #expect(try plan.estimate(journalPath: nil).messages == validation.sendable)
        let summary = try await fixture.runner().run()
        #expect(summary.counts.byReason == [.maxPrice: 3], "2-part messages cost $0.08 > max_price $0.04")
        #expect(summary.state == .completed)
    }

    @Test func providerSpendLimitStopsTheCampaign() async throws {
        let fixture = try fixture(budget: "{campaign_limit: 100}",
                                  provider: "{kind: simulator, outbox: outbox.jsonl, spend_limit_after: 7}")
        let summary = try await fixture.runner().run()
        #expect(summary.state == .budgetExhausted)
        guard case .budget(.provider, let detail) = summary.stop else {
            Issue.record("expected the provider's spend limit, got \(String(describing: summary.stop))")
            return
        }
        #expect(detail?.contains("MONTHLY_SPEND_LIMIT_REACHED") == true)
        #expect(summary.counts[.sent] == 7)
        #expect(summary.counts[.sending] == 0 && summary.counts[.pending] == 13)
        #expect(summary.spent == Money("0.28"), "refused messages released their reservation")
    }

    @Test func dryRunReportsCostAndTouchesNothingReal() async throws {
        let fixture = try fixture(budget: "{campaign_limit: 0.40}",
                                  provider: "{kind: simulator, outbox: outbox.jsonl, permanent_failure_rate: 0.2, seed: 3}")
        var options = RunOptions()
        options.dryRun = true
        let dry = try await fixture.runner(options).run()
        #expect(dry.dryRun && dry.campaign == "test-campaign@dry-run")
        #expect(dry.counts[.sent] + dry.counts[.failed] == 20, "a dry run is not held to the campaign limit")
        #expect(dry.counts[.failed] > 0)
        #expect(dry.spent == Money(nanos: Int64(dry.counts[.sent]) * 40_000_000))
        #expect(try fixture.outbox().isEmpty, "nothing delivered")
        // A second dry run starts afresh; the real campaign is untouched and its budget intact.
        let again = try await fixture.runner(options).run()
        #expect(again.counts.total == 20 && again.imported == 20)
        let journal = try Journal(path: fixture.journalPath)
        #expect(try journal.campaign(id: "test-campaign") == nil)
        #expect(try journal.monthSpend(month: BillingMonth.of(milliseconds: journal.now()), channel: .sms, scope: .simulated) == .zero)
    }

    @Test func estimateTotalsMatchThePerRecipientFileAndRun() async throws {
        let fixture = try fixture(rows: 30, budget: "{campaign_limit: 0.50, max_price: 0.04}",
                                  extraRows: "+1 202 555 0100,Ada,AB12,1\n+44 7700 900001,Dup,AB12,1\n+44 7700 9,Bad,AB12,1\n")
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let report = fixture.folder.appendingPathComponent("per.csv").path
        let estimate = try plan.estimate(journalPath: fixture.journalPath, perRecipient: report)
        #expect(estimate.rows == 33 && estimate.messages == 30 && estimate.duplicates == 1)
        #expect(estimate.invalid == ["no_price": 1, "bad_number": 1])
        // validate says the same number to send (it ignored max_price once: 19,900 against 19,869).
        #expect(try plan.validate().sendable == estimate.messages)
        #expect(estimate.total == Money("1.20"))
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(lines.count == 33)
        let fields = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let sendPrices = fields.filter { $0[5] == "send" || $0[5] == "budget_stop" }.map { Money(String($0[4]))! }
        #expect(sendPrices.reduce(.zero, +) == estimate.total)
        let campaignStop = try #require(estimate.limits.first { $0.limit == "campaign_limit" })
        #expect(campaignStop.messagesBeforeStop == 12 && campaignStop.stopsAtLine == 14)
        // Rows from the line the limit stops at are not marked as sent: the run stops there.
        #expect(fields.filter { $0[5] == "send" }.count == 12)
        #expect(fields.first { $0[5] == "budget_stop" }?[0] == "14" && fields.filter { $0[5] == "budget_stop" }.count == 18)
        #expect(!FileManager.default.fileExists(atPath: fixture.journalPath), "estimate writes no journal")

        // The run stops where the estimate said; a second estimate leaves out what was sent.
        let run = try await fixture.runner().run()
        #expect(run.counts[.sent] == campaignStop.messagesBeforeStop)
        let after = try plan.estimate(journalPath: fixture.journalPath)
        #expect(after.alreadySent == 12 && after.messages == 18)
        let stop = try #require(after.limits.first)
        #expect(stop.alreadySpent == Money("0.48") && stop.messagesBeforeStop == 0 && stop.stopsAtLine == 14)
    }
}
