import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// Whole RCS campaigns through v5 against a loopback server.
@Suite struct V5CampaignTests {
    func runner(_ fixture: Fixture) throws -> CampaignRunner {
        var runner = try fixture.runner()
        guard let configuration = try CampaignPlan.load(campaignPath: fixture.campaignPath).spec.provider.settings(as: V5Configuration.self) else {
            throw InputError(file: "", "expected v5")
        }
        runner.provider = try V5Provider(configuration: configuration, environment: ProviderTestValues.v5Environment,
                                         transport: AsyncHTTPClientTransport(maxConnections: 4, requestTimeout: .seconds(5)))
        return runner
    }

    @Test func aCampaignWithFieldErrorsInDoubtRowsAndThrottling() async throws {
        // Row 2 is refused with a field error, row 5's answer is lost, every fourth
        // request is throttled without Retry-After; the rest are queued.
        let counter = Counter()
        let server = try await LoopbackServer { request in
            let destination = request.json["destination"] as? String
            if destination == "447700900002" {
                return .respond(status: 400, body: #"{"status":"error","message":"Missing or invalid parameters in body","data":[{"field":"choices.1.url","description":"url","message":"'url' is not a valid URI"}]}"#)
            }
            if destination == "447700900005" { return .close }
            if counter.next() % 4 == 0 { return .respond(status: 429, body: "") }
            return .respond(status: 200, body: ProviderTestValues.v5Queued)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(12) + "\n",
                                  provider: "{kind: v5, endpoint: \"\(server.url)/\", source: CONVEY, fallback_sender: \"12025550100\"}",
                                  extra: "rate: {max_in_flight: 3}", template: RCSCampaign.template)
        let summary = try await runner(fixture).run()
        #expect(summary.counts[.sent] == 10 && summary.counts[.failed] == 1 && summary.counts[.inDoubt] == 1)
        let journal = try Journal(path: fixture.journalPath)
        let failed = try journal.rows(cid: journal.campaign(id: "test-campaign")!.cid, in: .failed, limit: 5)
        #expect(failed.first?.row == 4, "CSV line 4 holds the third recipient")
        #expect(failed.first?.detail == "HTTP 400: choices.1.url: 'url' is not a valid URI")
        let queued = server.requests.filter { ($0.json["destination"] as? String).map { !["447700900002", "447700900005"].contains($0) } ?? false }
        #expect(queued.count > 10, "throttled requests were sent again")
        #expect(server.requests.filter { $0.json["destination"] as? String == "447700900005" }.count == 1,
                "an in-doubt row is not resent by itself")
        let first = try #require(server.requests.first { $0.json["destination"] as? String == "447700900000" }?.json)
        #expect(first["messageType"] as? String == "RCS_TEXT" && first["messageText"] as? String == "Hi Name0, your code is C000")
        #expect((first["smsFailover"] as? [String: Any])?["fallbackText"] as? String == "Hi Name0, code C000")
        try await server.shutdown()
    }
}
