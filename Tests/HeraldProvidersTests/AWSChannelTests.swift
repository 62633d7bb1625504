import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import Testing

/// The AWS Send operations other than SendTextMessage, on the wire: operation by
/// channel, member names and nesting as in the service model, signature recomputed.
@Suite struct AWSChannelTests {
    func send(_ message: OutboundMessage, _ configure: (inout AWSConfiguration) -> Void = { _ in })
        async throws -> LoopbackServer.Request
    {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: #"{"MessageId":"m-9"}"#) }
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = server.url
        configuration.originationIdentity = "rcs-agent-1"
        configuration.maxPrice = "0.01"
        configure(&configuration)
        let aws = try AWSProvider(configuration: configuration, environment: AWSProviderTests.environment,
                                  transport: AsyncHTTPClientTransport(maxConnections: 1))
        #expect(await aws.send(message) == .accepted(providerRef: "m-9"))
        await aws.shutdown()
        try await server.shutdown()
        let request = try #require(server.requests.first)
        #expect(AWSProviderTests.signatureMatches(request))
        return request
    }

    @Test func sendRcsMessageCarriesTheCardAsUnions() async throws {
        let request = try await send(RCSFixtures.message(RCSFixtures.card, dryRun: true)) {
            $0.fallbackOriginationIdentity = "+447700900000"
            $0.ttlSeconds = 3600
        }
        #expect(request.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendRcsMessage")
        let json = request.json
        #expect(json["DestinationPhoneNumber"] as? String == "+447700900123")
        #expect(json["OriginationIdentity"] as? String == "rcs-agent-1")
        #expect(json["MaxPrice"] as? String == "0.01" && json["TimeToLive"] as? Int == 3600 && json["DryRun"] as? Bool == true)
        #expect(json["Context"] as? [String: String] == ["campaign": "spring", "herald_row": "7"])
        #expect(json["FallbackConfiguration"] as? [String: String]
            == ["Channel": "SMS", "MessageBody": "Hi Ada, Tue 09:30 at Riverside", "OriginationIdentity": "+447700900000"])
        let content = try #require(json["RcsMessageContent"] as? [String: Any])
        let rich = try #require((content["Content"] as? [String: Any])?["RichCard"] as? [String: Any])
        #expect(rich["CardOrientation"] as? String == "HORIZONTAL" && rich["ThumbnailImageAlignment"] as? String == "LEFT")
        let card = try #require(rich["CardContent"] as? [String: Any])
        #expect(card["Title"] as? String == "Your appointment, Ada" && card["Description"] as? String == "Tue 09:30 at Riverside")
        #expect(card["Media"] as? [String: String]
            == ["FileUrl": "https://example.com/clinic.jpg", "ThumbnailUrl": "https://example.com/t.jpg", "Height": "TALL"])
        let actions = try #require(card["Suggestions"] as? [[String: Any]])
        #expect(actions.map { $0.keys.sorted() } == [["Reply"], ["OpenUrl"], ["ShowLocation"], ["CreateCalendarEvent"]])
        #expect(actions[0]["Reply"] as? [String: String] == ["Text": "Confirm", "PostbackData": "confirm-RV1234"])
        #expect(actions[1]["OpenUrl"] as? [String: String] == ["Text": "Directions", "PostbackData": "Directions",
                                                                "Url": "https://example.com/map", "Application": "WEBVIEW",
                                                                "WebviewViewMode": "HALF"])
        let location = try #require(actions[2]["ShowLocation"] as? [String: Any])
        #expect(location["Latitude"] as? Double == 51.5072 && location["Longitude"] as? Double == -0.1276)
        let event = try #require(actions[3]["CreateCalendarEvent"] as? [String: Any])
        // JSON 1.0 timestamps are epoch seconds: 15:00Z, and 16:00+01:00 is also 15:00Z.
        #expect(event["StartTime"] as? Int == 1_898_780_400 && event["EndTime"] as? Int == 1_898_780_400)
        #expect(event["Title"] as? String == "Appointment" && event["Description"] as? String == "Bring your card")
        let top = try #require(content["Suggestions"] as? [[String: Any]])
        #expect(top.first?["DialPhone"] as? [String: String]
            == ["Text": "Call us", "PostbackData": "Call us", "PhoneNumber": "+12025550100"])
    }

    @Test func sendRcsMessageCarouselTextAndFile() async throws {
        let carousel = try await send(RCSFixtures.message(RCSFixtures.carousel)).json
        let content = try #require((carousel["RcsMessageContent"] as? [String: Any])?["Content"] as? [String: Any])
        let body = try #require(content["Carousel"] as? [String: Any])
        #expect(body["CardWidth"] as? String == "SMALL")
        let cards = try #require(body["CardContents"] as? [[String: Any]])
        #expect(cards.count == 2 && cards[0]["Title"] as? String == "One")
        #expect((cards[1]["Suggestions"] as? [[String: Any]])?.first?["RequestLocation"] as? [String: String]
            == ["Text": "Near me", "PostbackData": "Near me"])
        let text = try await send(RCSFixtures.message(RCSContent(text: "Hello"))).json
        #expect(((text["RcsMessageContent"] as? [String: Any])?["Content"] as? [String: Any])?["TextMessage"] as? [String: String]
            == ["Body": "Hello"])
        let file = try await send(RCSFixtures.message(RCSContent(media: RCSMedia(url: "s3://bucket/v.mp4")))).json
        #expect(((file["RcsMessageContent"] as? [String: Any])?["Content"] as? [String: Any])?["FileMessage"] as? [String: String]
            == ["FileUrl": "s3://bucket/v.mp4"])
        #expect(file["FallbackConfiguration"] == nil)
        var withMMS = RCSContent(text: "Hello")
        withMMS.fallbackMMS = RCSFallbackMMS(body: "See the picture", mediaURL: "s3://bucket/p.jpg", subject: nil)
        let mms = try await send(RCSFixtures.message(withMMS)).json
        let fallback = try #require(mms["FallbackConfiguration"] as? [String: Any])
        #expect(fallback["Channel"] as? String == "MMS" && fallback["MessageBody"] as? String == "See the picture")
        #expect(fallback["MediaUrls"] as? [String] == ["s3://bucket/p.jpg"] && fallback.count == 3)
    }

    @Test func sendMediaAndVoiceMessage() async throws {
        let mms = try await send(RCSFixtures.message(MMSContent(body: "Look", mediaURLs: ["s3://bucket/a.jpg"]), channel: .mms))
        #expect(mms.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendMediaMessage")
        #expect(mms.json["MessageBody"] as? String == "Look" && mms.json["MediaUrls"] as? [String] == ["s3://bucket/a.jpg"])
        #expect(mms.json["MaxPrice"] as? String == "0.01")
        let voice = try await send(RCSFixtures.message(VoiceContent(body: "<speak>Hi</speak>", textType: "SSML"), channel: .voice)) {
            $0.voiceID = "JOANNA"
        }
        #expect(voice.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendVoiceMessage")
        #expect(voice.json["MessageBody"] as? String == "<speak>Hi</speak>" && voice.json["MessageBodyTextType"] as? String == "SSML")
        #expect(voice.json["VoiceId"] as? String == "JOANNA")
        #expect(voice.json["MaxPricePerMinute"] as? String == "0.01" && voice.json["MaxPrice"] == nil)
    }

    @Test func sendNotifyTextAndVoiceMessage() async throws {
        let content = NotifyContent(templateID: "notify-code-001", variables: ["code": "123456", "minutes": "10", "note": ""])
        let text = try await send(RCSFixtures.message(content, channel: .notifyText)) { $0.notifyConfigurationID = "nc-123" }
        #expect(text.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendNotifyTextMessage")
        #expect(text.json["NotifyConfigurationId"] as? String == "nc-123" && text.json["TemplateId"] as? String == "notify-code-001")
        #expect(text.json["TemplateVariables"] as? [String: String] == ["code": "123456", "minutes": "10"], "empty values are left out")
        #expect(text.json["OriginationIdentity"] == nil && text.json["MaxPrice"] == nil)
        let voice = try await send(RCSFixtures.message(content, channel: .notifyVoice)) {
            $0.notifyConfigurationID = "nc-123"
            $0.voiceID = "MATTHEW"
        }
        #expect(voice.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendNotifyVoiceMessage")
        #expect(voice.json["VoiceId"] as? String == "MATTHEW")
    }
}
