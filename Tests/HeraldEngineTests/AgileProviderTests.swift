import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// The Agile Telecom adapter against a loopback server: wire format, auth,
/// answers, and the idempotent messageId.
@Suite struct AgileProviderTests {
    static let environment = ["AGILE_API_KEY": "test-key-not-a-secret"]
    static let accepted = #"{"messageId":"srv-1","simulation":false,"results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#

    func provider(_ server: LoopbackServer, environment: [String: String] = environment,
                  _ configure: (inout AgileConfiguration) -> Void = { _ in }) throws -> AgileProvider {
        var configuration = AgileConfiguration()
        configuration.endpoint = server.url
        configuration.agentID = 17
        configure(&configuration)
        return try AgileProvider(configuration: configuration, environment: environment,
                                 transport: AsyncHTTPClientTransport(maxConnections: 2, requestTimeout: .seconds(5)))
    }

    func exchange(_ message: OutboundMessage, environment: [String: String] = environment,
                  _ configure: (inout AgileConfiguration) -> Void = { _ in }) async throws -> (SendOutcome, LoopbackServer.Request) {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: Self.accepted) }
        let agile = try provider(server, environment: environment, configure)
        let outcome = await agile.send(message)
        await agile.shutdown()
        try await server.shutdown()
        return (outcome, try #require(server.requests.first))
    }

    @Test func aCardOnTheWire() async throws {
        let (outcome, request) = try await exchange(RCSFixtures.message(RCSFixtures.card, dryRun: true)) {
            $0.fallbackSender = "Clinic"
            $0.fallbackWhatsApp = .init(phoneNumberID: 55, templateID: 66)
            $0.maxSMSParts = 2
            $0.scheduledDate = try? Date("2025-10-01T09:00:00Z", strategy: .iso8601)
            $0.enableNotification = true
        }
        // The reference kept is the messageId herald sent: Agile's callbacks name it.
        #expect(outcome == .accepted(providerRef: AgileProvider.messageID(for: "spring/7")))
        #expect(request.method == "POST" && request.uri == "/api/message-server/rcs/send")
        #expect(request.header("X-Api-Key") == "test-key-not-a-secret" && request.header("Authorization") == nil)
        #expect(request.header("Content-Type") == "application/json")
        let json = request.json
        #expect(json["destination"] as? String == "+447700900123" && json["agentId"] as? Int == 17)
        #expect(json["campaignId"] as? String == "spring")
        #expect(json["messageId"] as? String == AgileProvider.messageID(for: "spring/7"))
        #expect(json["simulation"] as? Bool == true && json["enableNotification"] as? Bool == true)
        #expect(json["maxSmsParts"] as? Int == 2)
        #expect(json["scheduledDate"] as? String == "2025-10-01 09:00:00.000+0000")
        #expect(json["fallbackSms"] as? [String: String] == ["sender": "Clinic", "text": "Hi Ada, Tue 09:30 at Riverside"])
        #expect(json["fallbackWhatsApp"] as? [String: Int] == ["phoneNumberId": 55, "templateId": 66])
        #expect(json["templateId"] == nil && json["placeholders"] == nil)
        let body = try #require(json["body"] as? [String: Any])
        #expect(body["type"] as? String == "CARD" && body["title"] as? String == "Your appointment, Ada")
        #expect(body["description"] as? String == "Tue 09:30 at Riverside")
        #expect(body["mediaUrl"] as? String == "https://example.com/clinic.jpg" && body["mediaHeight"] as? String == "TALL")
        let suggestions = try #require(body["suggestions"] as? [[String: Any]])
        #expect(suggestions.map { $0["type"] as? String } == ["reply", "url", "locationCoordinates", "calendar", "dial"])
        #expect(suggestions[0] as? [String: String] == ["type": "reply", "text": "Confirm", "postbackData": "confirm-RV1234"])
        #expect(suggestions[1] as? [String: String] == ["type": "url", "text": "Directions", "url": "https://example.com/map"])
        #expect(suggestions[2] as? [String: String]
            == ["type": "locationCoordinates", "text": "Where", "latitude": "51.5072", "longitude": "-0.1276", "label": "Clinic"])
        #expect(suggestions[3] as? [String: String]
            == ["type": "calendar", "text": "Add", "title": "Appointment", "description": "Bring your card",
                "startTime": "2030-03-03T15:00:00Z", "endTime": "2030-03-03T16:00:00.000+01:00"])
        #expect(suggestions[4] as? [String: String] == ["type": "dial", "text": "Call us", "phoneNumber": "+12025550100"])
    }

    @Test func textCarouselMediaAndTemplateBodies() async throws {
        let text = try await exchange(RCSFixtures.message(RCSContent(text: "Hello", suggestions: [RCSSuggestion(type: .reply, text: "Hi")]))).1.json
        let textBody = try #require(text["body"] as? [String: Any])
        #expect(textBody["type"] as? String == "TEXT" && textBody["text"] as? String == "Hello")
        #expect(textBody["suggestions"] as? [[String: String]] == [["type": "reply", "text": "Hi", "postbackData": "Hi"]])
        let carousel = try await exchange(RCSFixtures.message(RCSContent(carousel: RCSCarousel(cards: [
            RCSCard(title: "One", media: RCSMedia(url: "https://e.com/1.jpg", height: "SHORT")), RCSCard(title: "Two"),
        ])))).1.json
        let body = try #require(carousel["body"] as? [String: Any])
        #expect(body["type"] as? String == "CAROUSEL")
        #expect(body["cards"] as? [[String: String]]
            == [["title": "One", "mediaUrl": "https://e.com/1.jpg", "mediaHeight": "SHORT"], ["title": "Two"]])
        let media = try await exchange(RCSFixtures.message(RCSContent(media: RCSMedia(url: "https://e.com/v.mp4")))).1.json
        #expect(media["body"] as? [String: String] == ["type": "CARD", "mediaUrl": "https://e.com/v.mp4"])
        let template = try await exchange(RCSFixtures.message(RCSContent(templateID: "42", placeholders: ["nome": "Mario"]))).1.json
        #expect(template["templateId"] as? Int == 42 && template["placeholders"] as? [String: String] == ["nome": "Mario"])
        #expect(template["body"] == nil)
    }

    @Test func basicAuthWhenThereIsNoAPIKey() async throws {
        let (_, request) = try await exchange(RCSFixtures.message(RCSContent(text: "Hi")),
                                              environment: ["AGILE_USERNAME": "user", "AGILE_PASSWORD": "pa:ss"])
        #expect(request.header("Authorization") == "Basic " + Data("user:pa:ss".utf8).base64EncodedString())
        #expect(request.header("X-Api-Key") == nil)
        let server = try await LoopbackServer { _ in .close }
        let error = #expect(throws: ProviderSetupError.self) { try provider(server, environment: [:]) }
        #expect(error?.description.contains("AGILE_API_KEY") == true)
        try await server.shutdown()
    }

    @Test func theMessageIdIsAStableUUIDPerCampaignAndRow() {
        let id = AgileProvider.messageID(for: "spring/7")
        #expect(id == AgileProvider.messageID(for: "spring/7"))
        #expect(id != AgileProvider.messageID(for: "spring/8") && id != AgileProvider.messageID(for: "autumn/7"))
        #expect(UUID(uuidString: id) != nil && id.count == 36 && Array(id)[14] == "8")
    }

    @Test(arguments: [
        (200, #"{"messageId":"x","results":{"rcs":{"accepted":false,"reasons":["NOT_RCS_CAPABLE"]},"sms":null}}"#, [],
         SendOutcome.permanent(reason: "not accepted: NOT_RCS_CAPABLE")),
        (200, #"{"messageId":"x","results":{"rcs":{"accepted":false,"reasons":["NOT_RCS_CAPABLE"]},"sms":{"accepted":true}}}"#, [],
         .accepted(providerRef: AgileProvider.messageID(for: "spring/7"))),
        (400, #"{"message":"agentId is required"}"#, [], .permanent(reason: "HTTP 400: agentId is required")),
        (401, "", [], .campaignRefused(reason: "HTTP 401: no details")),
        (403, #"{"error":"IP not in whitelist"}"#, [], .campaignRefused(reason: "HTTP 403: IP not in whitelist")),
        (404, #"{"message":"agent not found"}"#, [], .campaignRefused(reason: "HTTP 404: agent not found")),
        (422, #"{"message":"carousel needs 2 cards"}"#, [], .permanent(reason: "HTTP 422: carousel needs 2 cards")),
        (429, "", [("Retry-After", "3")], .throttled(retryAfter: .seconds(3))),
        (429, "", [], .throttled(retryAfter: nil)),
        (500, "oops", [], .transient(reason: "HTTP 500: oops")),
    ] as [(Int, String, [(String, String)], SendOutcome)])
    func answersMapByStatus(status: Int, body: String, headers: [(String, String)], expected: SendOutcome) async throws {
        let server = try await LoopbackServer { _ in .respond(status: status, headers: headers, body: body) }
        let agile = try provider(server)
        #expect(await agile.send(RCSFixtures.message(RCSContent(text: "Hi"))) == expected)
        await agile.shutdown()
        try await server.shutdown()
    }
}

/// Whole RCS campaigns through Agile against a loopback server.
@Suite struct AgileCampaignTests {
    func runner(_ fixture: Fixture) throws -> CampaignRunner {
        var runner = try fixture.runner()
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        guard let configuration = plan.spec.provider.settings(as: AgileConfiguration.self) else { throw InputError(file: "", "expected agile") }
        runner.provider = try AgileProvider(configuration: configuration, environment: AgileProviderTests.environment,
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
            return .respond(status: 200, body: AgileProviderTests.accepted)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(10) + "\n",
                                  provider: "{kind: agile, endpoint: \"\(server.url)\", agent_id: 3, fallback_sender: Clinic}",
                                  extra: "rate: {max_in_flight: 4}\nretry: {max_attempts: 3, initial_backoff_ms: 10}",
                                  template: RCSFixtures.template)
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
        let template = RCSFixtures.template.replacingOccurrences(
            of: "- {type: reply, text: \"Use <code>\", postback: \"use-<code>\"}", with: "- {type: request_location, text: \"Where?\"}")
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(2) + "\n",
                                  provider: "{kind: agile, agent_id: 3, fallback_sender: Clinic}", template: template)
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.hasSuffix("template.yaml: rcs.suggestions[0].type: agile has no request_location suggestion for provider agile") == true,
                "\(String(describing: error))")
        let noSender = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(2) + "\n",
                                   provider: "{kind: agile, agent_id: 3}", template: RCSFixtures.template)
        let missing = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: noSender.campaignPath) }
        #expect(missing?.description.contains("fallback_sender") == true)
    }

    @Test func aLabelTooLongForOneRowSkipsThatRowOnly() async throws {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: AgileProviderTests.accepted) }
        let rows = "phone,name,code,points\n+44 7700 900001,Ada,C001,1\n+44 7700 900002,Bob,C0000000000000000000000002,2\n"
        let fixture = try Fixture(rows: rows,
                                  provider: "{kind: agile, endpoint: \"\(server.url)\", agent_id: 3, fallback_sender: Clinic}",
                                  template: RCSFixtures.template)
        let summary = try await runner(fixture).run()
        #expect(summary.counts[.sent] == 1 && summary.counts[.skipped] == 1)
        let journal = try Journal(path: fixture.journalPath)
        let skipped = try journal.rows(cid: journal.campaign(id: "test-campaign")!.cid, in: .skipped, limit: 5)
        #expect(skipped.first?.reason == .invalidContent)
        #expect(skipped.first?.detail == "rcs.suggestions[0].text: 30 characters; agile allows at most 25")
        try await server.shutdown()
    }
}
