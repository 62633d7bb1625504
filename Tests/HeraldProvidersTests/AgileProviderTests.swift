import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import Testing

/// The Agile Telecom adapter against a loopback server: wire format, auth,
/// answers, and the idempotent messageId.
@Suite struct AgileProviderTests {
    static let environment = ProviderTestValues.agileEnvironment
    static let accepted = ProviderTestValues.agileAccepted

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
