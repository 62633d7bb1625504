import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// Whole RCS campaigns through Agile against a loopback server.
@Suite struct AgileCampaignTests {
    func runner(_ fixture: Fixture) throws -> CampaignRunner {
        var runner = try fixture.runner()
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        guard let configuration = plan.spec.provider.settings(as: AgileConfiguration.self) else { throw InputError(file: "", "expected agile") }
        runner.provider = try AgileProvider(configuration: configuration, environment: ProviderTestValues.agileEnvironment,
                                            transport: AsyncHTTPClientTransport(maxConnections: 4, requestTimeout: .seconds(5)))
        return runner
    }

    @Test func aLostAnswerIsSentAgainWithTheSameMessageIdAndDeliveredOnce() async throws {
        // The server delivers every request it reads, then drops the connection for the
        // first request of row 4 (as if the answer were lost), and answers a repeated
        // messageId without delivering again, as Agile's idempotency does.
        let delivered = DeliveryLog()
        let server = try await LoopbackServer { request in
            let id = request.json["messageId"] as? String ?? ""
            let first = delivered.record(id: id, destination: request.json["destination"] as? String ?? "")
            if first, request.json["destination"] as? String == "+447700900004" { return .close }
            return .respond(status: 200, body: ProviderTestValues.agileAccepted)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(10) + "\n",
                                  provider: "{kind: agile, endpoint: \"\(server.url)\", agent_id: 3, fallback_sender: Clinic}",
                                  extra: "rate: {max_in_flight: 4}\nretry: {max_attempts: 3, initial_backoff_ms: 10}",
                                  template: RCSCampaign.template)
        let summary = try await runner(fixture).run()
        #expect(summary.state == .completed && summary.counts[.sent] == 10 && summary.counts[.inDoubt] == 0)
        #expect(server.requests.count == 11, "row 4 was sent twice")
        #expect(delivered.destinations.count == 10 && Set(delivered.destinations).count == 10, "and delivered once")
        let repeated = server.requests.filter { $0.json["destination"] as? String == "+447700900004" }
        #expect(repeated.count == 2 && repeated[0].json["messageId"] as? String == repeated[1].json["messageId"] as? String)
        // What went out is the rendered template, field by field.
        let body = try #require(server.requests.first { $0.json["destination"] as? String == "+447700900000" }?.json["body"] as? [String: Any])
        #expect(body["type"] as? String == "TEXT" && body["text"] as? String == "Hi Name0, your code is C000")
        #expect((body["suggestions"] as? [[String: String]])?.first == ["type": "reply", "text": "Use C000", "postbackData": "use-C000"])
        #expect(server.requests.first?.json["fallbackSms"] as? [String: String] != nil)
        try await server.shutdown()
    }

    @Test func contentAgileCannotTakeIsRefusedBeforeAnythingIsSent() throws {
        let template = RCSCampaign.template.replacingOccurrences(
            of: "- {type: reply, text: \"Use <code>\", postback: \"use-<code>\"}", with: "- {type: request_location, text: \"Where?\"}")
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(2) + "\n",
                                  provider: "{kind: agile, agent_id: 3, fallback_sender: Clinic}", template: template)
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.hasSuffix("template.yaml: rcs.suggestions[0].type: agile has no request_location suggestion for provider agile") == true,
                "\(String(describing: error))")
        let noSender = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(2) + "\n",
                                   provider: "{kind: agile, agent_id: 3}", template: RCSCampaign.template)
        let missing = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: noSender.campaignPath) }
        #expect(missing?.description.contains("fallback_sender") == true)
    }

    @Test func aLabelTooLongForOneRowSkipsThatRowOnly() async throws {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: ProviderTestValues.agileAccepted) }
        let rows = "phone,name,code,points\n+44 7700 900001,Ada,C001,1\n+44 7700 900002,Bob,C0000000000000000000000002,2\n"
        let fixture = try Fixture(rows: rows,
                                  provider: "{kind: agile, endpoint: \"\(server.url)\", agent_id: 3, fallback_sender: Clinic}",
                                  template: RCSCampaign.template)
        let summary = try await runner(fixture).run()
        #expect(summary.counts[.sent] == 1 && summary.counts[.skipped] == 1)
        let journal = try Journal(path: fixture.journalPath)
        let skipped = try journal.rows(cid: journal.campaign(id: "test-campaign")!.cid, in: .skipped, limit: 5)
        #expect(skipped.first?.reason == .invalidContent)
        #expect(skipped.first?.detail == "rcs.suggestions[0].text: 30 characters; agile allows at most 25")
        try await server.shutdown()
    }
}
