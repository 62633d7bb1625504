import Foundation
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// `estimate` on a campaign that has started: rows the journal dealt with are left out
/// (read from counters and the pending mark, not the rows), rows waiting to be sent
/// again are still to send.
@Suite struct EstimateProgressTests {
    @Test func handledRowsAreLeftOutAndWaitingRowsStay() async throws {
        let fixture = try Fixture(
            rows: CampaignRunnerTests.header + Fixture.validRows(20) + "\n",
            provider: "{kind: simulator, failure_rate: 1}",
            extra: "retry: {max_attempts: 5, initial_backoff_ms: 600000, max_backoff_ms: 600000}")
        var options = RunOptions()
        options.limit = 3
        let failing = try await fixture.runner(options).run()
        #expect(failing.counts[.retry] == 3, "three rows wait ten minutes for their next attempt")
        try String(contentsOfFile: fixture.campaignPath, encoding: .utf8)
            .replacingOccurrences(of: "failure_rate: 1", with: "failure_rate: 0")
            .write(toFile: fixture.campaignPath, atomically: true, encoding: .utf8)
        options.limit = 5
        let sending = try await fixture.runner(options).run()
        #expect(sending.counts[.sent] == 5)

        let estimate = try CampaignPlan.load(campaignPath: fixture.campaignPath).estimate(journalPath: fixture.journalPath)
        #expect(estimate.alreadySent == 5)
        #expect(estimate.alreadyHandled == 5)
        #expect(estimate.messages == 15, "3 waiting and 12 never claimed")
    }
}

/// The estimate (and so the budget, which reserves the parts counted at import) counts the
/// parts as the campaign's provider bills them: Twilio keeps a grapheme whole, AWS a code point.
@Suite struct ProviderPartsTests {
    @Test func theSameBodyIsTwoPartsThroughAWSAndThreeThroughTwilio() throws {
        // 66 Cyrillic letters, then "é" as e + U+0301 across the first part's end, then 66 units more.
        let body = String(repeating: "ж", count: 66) + "e\u{301}" + String(repeating: "ж", count: 62) + " <name>"
        let template = "id: t\nchannel: sms\nvariables:\n  name: {type: string, required: true}\nbody: \"\(body)\"\n"
        var parts: [String: Int] = [:]
        for (kind, provider) in [("aws", "{kind: aws, region: us-east-1}"),
                                 ("twilio", "{kind: twilio, account_sid: AC0123456789abcdef0123456789abcdef, from: \"+15550100\"}")] {
            let fixture = try Fixture(rows: "phone,name\n+1 201 555 0100,Ada\n+1 201 555 0101,Bob\n", provider: provider, template: template)
            let estimate = try CampaignPlan.load(campaignPath: fixture.campaignPath).estimate(journalPath: fixture.journalPath)
            #expect(estimate.messages == 2)
            parts[kind] = estimate.parts
        }
        #expect(parts == ["aws": 4, "twilio": 6])
    }
}
