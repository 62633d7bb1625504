import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import Testing

/// The `/v5/messages` adapter against a loopback server.
@Suite struct V5ProviderTests {
    static let environment = ProviderTestValues.v5Environment
    static let queued = ProviderTestValues.v5Queued

    func provider(_ server: LoopbackServer, _ configure: (inout V5Configuration) -> Void = { _ in }) throws -> V5Provider {
        var configuration = V5Configuration()
        configuration.endpoint = server.url
        configuration.source = "CONVEY"
        configure(&configuration)
        return try V5Provider(configuration: configuration, environment: Self.environment,
                              transport: AsyncHTTPClientTransport(maxConnections: 2, requestTimeout: .seconds(5)))
    }

    func exchange(_ message: OutboundMessage, _ configure: (inout V5Configuration) -> Void = { _ in })
        async throws -> (SendOutcome, LoopbackServer.Request)
    {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: Self.queued) }
        let v5 = try provider(server, configure)
        let outcome = await v5.send(message)
        await v5.shutdown()
        try await server.shutdown()
        return (outcome, try #require(server.requests.first))
    }

    @Test func aCardWithChoicesOnTheWire() async throws {
        let (outcome, request) = try await exchange(RCSFixtures.message(RCSFixtures.card)) {
            $0.fallbackSender = "12025550100"
            $0.callbackURL = "https://example.com/status"
        }
        #expect(outcome == .accepted(providerRef: "550e8400-e29b-41d4-a716-446655440000"))
        #expect(request.method == "POST" && request.uri == "/v5/messages")
        #expect(request.header("Authorization") == "Basic " + Data("herald:not-a-secret".utf8).base64EncodedString())
        #expect(request.header("Content-Type") == "application/json")
        let json = request.json
        #expect(json["messageType"] as? String == "RCS_CARD" && json["source"] as? String == "CONVEY")
        #expect(json["destination"] as? String == "447700900123")
        #expect(json["title"] as? String == "Your appointment, Ada" && json["description"] as? String == "Tue 09:30 at Riverside")
        #expect(json["height"] as? String == "TALL" && json["mediaUrl"] as? String == "https://example.com/clinic.jpg")
        #expect(json["thumbnailUrl"] as? String == "https://example.com/t.jpg")
        #expect(json["callbackURL"] as? String == "https://example.com/status?herald_campaign=spring&herald_row=7")
        let failover = try #require(json["smsFailover"] as? [String: Any])
        #expect(failover["enabled"] as? Bool == true && failover["failoverSource"] as? String == "12025550100")
        #expect(failover["fallbackText"] as? String == "Hi Ada, Tue 09:30 at Riverside")
        let choices = try #require(json["choices"] as? [[String: Any]])
        #expect(choices.map { $0["type"] as? String } == ["REPLY", "OPEN_URL", "SHOW_LOCATION", "CREATE_CALENDAR_EVENT", "DIAL_PHONE"])
        #expect(choices[0] as? [String: String] == ["type": "REPLY", "title": "Confirm", "postbackData": "confirm-RV1234"])
        #expect(choices[1] as? [String: String] == ["type": "OPEN_URL", "title": "Directions", "postbackData": "Directions",
                                                    "url": "https://example.com/map", "application": "WEBVIEW",
                                                    "webviewViewMode": "HALF"])
        #expect(choices[2]["latitude"] as? Double == 51.5072 && choices[2]["longitude"] as? Double == -0.1276)
        #expect(choices[2]["label"] as? String == "Clinic")
        #expect(choices[3] as? [String: String] == ["type": "CREATE_CALENDAR_EVENT", "title": "Add", "postbackData": "Add",
                                                    "startTime": "2030-03-03T15:00:00Z", "endTime": "2030-03-03T16:00:00.000+01:00",
                                                    "eventTitle": "Appointment", "description": "Bring your card"])
        #expect(choices[4] as? [String: String] == ["type": "DIAL_PHONE", "title": "Call us", "postbackData": "Call us",
                                                    "phoneNumber": "12025550100"])
    }

    @Test func textMediaAndCarousel() async throws {
        let open = RCSSuggestion(type: .openURL, text: "More")
        var withURL = open
        withURL.url = "https://example.com"
        let text = try await exchange(RCSFixtures.message(RCSContent(text: "Hello", suggestions: [withURL]))).1.json
        #expect(text["messageType"] as? String == "RCS_TEXT" && text["messageText"] as? String == "Hello")
        #expect((text["choices"] as? [[String: String]])?.first
            == ["type": "OPEN_URL", "title": "More", "postbackData": "More", "url": "https://example.com",
                "application": "BROWSER", "webviewViewMode": "FULL"], "v5 requires both: the defaults are sent")
        #expect(text["smsFailover"] == nil)
        var withMMS = RCSContent(text: "Hello")
        withMMS.fallbackMMS = RCSFallbackMMS(body: "See the picture", mediaURL: "https://e.com/p.jpg", subject: "Your visit")
        let mms = try await exchange(RCSFixtures.message(withMMS)) { $0.fallbackSender = "12025550100" }.1.json
        let failover = try #require(mms["mmsFailover"] as? [String: Any])
        #expect(failover["enabled"] as? Bool == true && failover["failoverSource"] as? String == "12025550100")
        #expect(failover["fallbackText"] as? String == "See the picture" && failover["mediaUrl"] as? String == "https://e.com/p.jpg")
        #expect(failover["subject"] as? String == "Your visit" && mms["smsFailover"] == nil)
        let media = try await exchange(RCSFixtures.message(RCSContent(media: RCSMedia(
            url: "https://e.com/v.mp4", thumbnailURL: "https://e.com/t.jpg", filename: "clip.mp4")))).1.json
        #expect(media["messageType"] as? String == "RCS_MEDIA" && media["mediaUrl"] as? String == "https://e.com/v.mp4")
        #expect(media["thumbnailUrl"] as? String == "https://e.com/t.jpg" && media["filenameOverride"] as? String == "clip.mp4")
        let carousel = try await exchange(RCSFixtures.message(RCSFixtures.carousel)).1.json
        #expect(carousel["messageType"] as? String == "RCS_CAROUSEL")
        let cards = try #require(carousel["cards"] as? [[String: Any]])
        #expect(cards.count == 2 && cards[0]["title"] as? String == "One" && cards[0]["height"] as? String == "SHORT")
        #expect(cards[1]["height"] as? String == "MEDIUM", "height is required by v5: MEDIUM when unset")
        #expect((cards[1]["choices"] as? [[String: String]])?.first
            == ["type": "REQUEST_LOCATION", "title": "Near me", "postbackData": "Near me"])
    }

    @Test(arguments: [
        (400, #"{"status":"error","message":"Missing or invalid parameters in body","data":[{"field":"choices.0.webviewViewMode","description":"webviewViewMode","message":"When choice type is OPEN_URL, 'webviewViewMode' is required"},{"field":"cards.1.choices.0.url","description":"url","message":"When choice type is OPEN_URL, 'url' is required"}]}"#, [],
         SendOutcome.permanent(reason: "HTTP 400: choices.0.webviewViewMode: When choice type is OPEN_URL, 'webviewViewMode' is required; cards.1.choices.0.url: When choice type is OPEN_URL, 'url' is required")),
        (200, #"{"status":"error","message":"destination not reachable"}"#, [], .permanent(reason: "not queued: destination not reachable")),
        (401, #"{"status":"error","message":"Unauthorized"}"#, [], .campaignRefused(reason: "HTTP 401: Unauthorized")),
        (429, "", [("Retry-After", "1.5")], .throttled(retryAfter: .milliseconds(1500))),
        (429, "", [], .throttled(retryAfter: nil)),
        (502, "bad gateway", [], .transient(reason: "HTTP 502: bad gateway")),
    ] as [(Int, String, [(String, String)], SendOutcome)])
    func answersMapByStatus(status: Int, body: String, headers: [(String, String)], expected: SendOutcome) async throws {
        let server = try await LoopbackServer { _ in .respond(status: status, headers: headers, body: body) }
        let v5 = try provider(server)
        #expect(await v5.send(RCSFixtures.message(RCSContent(text: "Hi"))) == expected)
        await v5.shutdown()
        try await server.shutdown()
    }

    @Test func aConnectionClosedAfterTheRequestLeavesItInDoubt() async throws {
        let server = try await LoopbackServer { _ in .close }
        let v5 = try provider(server)
        guard case .indeterminate = await v5.send(RCSFixtures.message(RCSContent(text: "Hi"))) else {
            Issue.record("v5 has no idempotency key: a request that may have arrived is in doubt")
            return
        }
        await v5.shutdown()
        try await server.shutdown()
    }
}
