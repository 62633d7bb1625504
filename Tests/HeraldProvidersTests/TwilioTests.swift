import Foundation
import HeraldCore
import HeraldSettings
import HeraldTestSupport
import Testing
@testable import HeraldProviders

/// Twilio Programmable Messaging: requests on the wire against a loopback server, answers
/// and error codes, status callbacks and their signatures, settings.
@Suite struct TwilioTests {
    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let service = "MG" + String(repeating: "fedcba9876543210", count: 2)
    static let sid = "SM00112233445566778899aabbccddeeff"
    static let environment = ["TWILIO_ACCOUNT_SID": account, "TWILIO_AUTH_TOKEN": "not-a-real-token"]

    static func message(_ body: String = "Hi Ada, your code is K7Q2", row: Int = 7, channel: Channel = .sms) -> OutboundMessage {
        OutboundMessage(campaign: "spring", row: row, destination: PhoneNumber(digits: 447700900123, region: "GB"), channel: channel,
                        body: body, parts: 1)
    }

    func exchange(_ message: OutboundMessage, environment: [String: String] = Self.environment,
                  reply: LoopbackServer.Reply = .respond(status: 201, body: #"{"sid":"\#(Self.sid)","status":"queued"}"#),
                  _ configure: (inout TwilioConfiguration) -> Void = { $0.from = "+15550100" }) async throws
        -> (SendOutcome, LoopbackServer.Request)
    {
        let server = try await LoopbackServer { _ in reply }
        var configuration = TwilioConfiguration()
        configuration.endpoint = server.url
        configure(&configuration)
        let twilio = try TwilioProvider(configuration: configuration, environment: environment,
                                        transport: AsyncHTTPClientTransport(maxConnections: 2, requestTimeout: .seconds(5)))
        let outcome = await twilio.send(message)
        await twilio.shutdown()
        try await server.shutdown()
        return (outcome, try #require(server.requests.first))
    }

    func fields(_ request: LoopbackServer.Request) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for (name, value) in FormEncoding.decode(request.body) ?? [] { fields[name, default: []].append(value) }
        return fields
    }

    @Test func anSMSOnTheWire() async throws {
        let (outcome, request) = try await exchange(Self.message("Hé Ada & co = 100% 🎉")) {
            $0.from = "+15550100"
            $0.statusCallback = "https://receipts.example/receipts/twilio/tok"
            $0.maxPrice = "0.05"
            $0.validityPeriod = 600
        }
        #expect(outcome == .accepted(providerRef: Self.sid))
        #expect(request.method == "POST" && request.uri == "/2010-04-01/Accounts/\(Self.account)/Messages.json")
        #expect(request.header("Authorization") == "Basic " + Data("\(Self.account):not-a-real-token".utf8).base64EncodedString())
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(fields(request) == ["To": ["+447700900123"], "From": ["+15550100"], "Body": ["Hé Ada & co = 100% 🎉"],
                                    "StatusCallback": ["https://receipts.example/receipts/twilio/tok?herald_campaign=spring&herald_row=7"],
                                    "MaxPrice": ["0.05"], "ValidityPeriod": ["600"]])
        #expect(String(decoding: request.body, as: UTF8.self).contains("Body=H%C3%A9%20Ada%20%26%20co%20%3D%20100%25%20%F0%9F%8E%89"))
    }

    @Test func anMMSThroughAMessagingServiceWithAnAPIKey() async throws {
        let content = #"{"body":"Your ticket","media_urls":["https://example.com/a.png","https://example.com/b.png"]}"#
        let environment = ["TWILIO_API_KEY_SID": "SK" + String(repeating: "1", count: 32), "TWILIO_API_KEY_SECRET": "secret-not-real"]
        let (outcome, request) = try await exchange(Self.message(content, channel: .mms), environment: environment) {
            $0.accountSID = Self.account
            $0.messagingServiceSID = Self.service
        }
        #expect(outcome == .accepted(providerRef: Self.sid))
        #expect(request.header("Authorization")
            == "Basic " + Data("SK\(String(repeating: "1", count: 32)):secret-not-real".utf8).base64EncodedString())
        #expect(fields(request) == ["To": ["+447700900123"], "MessagingServiceSid": [Self.service], "Body": ["Your ticket"],
                                    "MediaUrl": ["https://example.com/a.png", "https://example.com/b.png"]])
    }

    @Test(arguments: [
        (400, #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#, "optedOut"),
        (400, #"{"code":21211,"message":"Invalid 'To' Phone Number","status":400}"#, "permanent"),
        (400, #"{"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages","status":400}"#, "throttled"),
        (400, #"{"code":21212,"message":"Invalid 'From' Phone Number","status":400}"#, "campaignRefused"),
        (401, #"{"code":20003,"message":"Authenticate","status":401}"#, "campaignRefused"),
        (404, #"{"code":20404,"message":"The requested resource was not found","status":404}"#, "campaignRefused"),
        (429, #"{"code":20429,"message":"Too Many Requests","status":429}"#, "throttled"),
        (503, "upstream unavailable", "transient"),
        (201, #"{"status":"queued"}"#, "accepted"),
    ] as [(Int, String, String)])
    func answersAndErrorCodes(status: Int, body: String, kind: String) {
        let outcome = TwilioProvider.outcome(of: HTTPResponseData(status: status, headers: [], body: Array(body.utf8)))
        let name: String
        switch outcome {
        case .optedOut: name = "optedOut"
        case .permanent: name = "permanent"
        case .throttled: name = "throttled"
        case .campaignRefused: name = "campaignRefused"
        case .transient: name = "transient"
        case .accepted(let reference): name = reference.isEmpty ? "accepted" : "accepted \(reference)"
        default: name = "\(outcome)"
        }
        #expect(name == kind, "\(outcome)")
        if case .permanent(let reason) = outcome { #expect(reason == "Twilio 21211: Invalid 'To' Phone Number") }
    }

    @Test func noAnswerAfterSendingIsInDoubt() async throws {
        let (outcome, _) = try await exchange(Self.message(), reply: .close)
        guard case .indeterminate = outcome else {
            Issue.record("a request Twilio may have taken, without an answer, is in doubt: \(outcome)")
            return
        }
    }

    @Test func missingCredentialsAreSaidBeforeSending() {
        var configuration = TwilioConfiguration()
        configuration.from = "+15550100"
        let transport = AsyncHTTPClientTransport(maxConnections: 1)
        defer { Task { await transport.shutdown() } }
        for (environment, expected) in [
            ([:], "no Twilio account"),
            (["TWILIO_ACCOUNT_SID": "AC123"], "not an account SID"),
            (["TWILIO_ACCOUNT_SID": Self.account], "no Twilio credentials"),
            (["TWILIO_ACCOUNT_SID": Self.account, "TWILIO_API_KEY_SID": "SK1"], "without TWILIO_API_KEY_SECRET"),
        ] as [([String: String], String)] {
            #expect(throws: ProviderSetupError.self) { try TwilioProvider(configuration: configuration, environment: environment, transport: transport) }
            do {
                _ = try TwilioProvider(configuration: configuration, environment: environment, transport: transport)
            } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }

    /// The example of Twilio's request-validation documentation (twilio-php's validator docs).
    @Test func theSignatureOfTwilioSDocumentedExample() {
        let fields = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
                      ("From", "+14158675309"), ("To", "+18005551212")]
        #expect(TwilioReceipts.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", fields: fields.reversed(), authToken: "12345")
            == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    }

    @Test func statusCallbacksBecomeEvents() throws {
        func event(_ body: String, campaign: String? = nil, row: Int? = nil) throws -> DeliveryEvent {
            try #require(try TwilioReceipts.events(body: Array(body.utf8), campaign: campaign, row: row).first)
        }
        let delivered = try event("MessageSid=\(Self.sid)&MessageStatus=delivered&To=%2B447700900123&AccountSid=\(Self.account)")
        #expect(delivered.state == .delivered && delivered.match == .reference(Self.sid) && delivered.source == .twilio)
        let failed = try event("MessageSid=\(Self.sid)&MessageStatus=undelivered&ErrorCode=30006", campaign: "spring", row: 9)
        #expect(failed.state == .undelivered && failed.code == "30006" && failed.invalidNumber)
        #expect(failed.match == .row(campaign: "spring", row: 9, reference: Self.sid))
        let read = try event("MessageSid=\(Self.sid)&MessageStatus=read")
        #expect(read.read && read.state == nil)
        #expect(try event("MessageSid=\(Self.sid)&MessageStatus=sent").state == .pending)
        #expect(try event("MessageSid=\(Self.sid)&MessageStatus=failed&ErrorCode=30003").invalidNumber == false)
        #expect(TwilioReceipts.metricLabel("delivered") == "delivered" && TwilioReceipts.metricLabel("\u{1B}[2J") == "other")
        for bad in ["MessageStatus=delivered", "MessageSid=SM1&MessageStatus=delivered", "MessageSid=\(Self.sid)",
                    "MessageSid=\(Self.sid)&MessageStatus=%ZZ", "MessageSid=\(Self.sid)&MessageStatus=%C3"] {
            #expect(throws: ReceiptParseError.self, "\(bad)") { try TwilioReceipts.events(body: Array(bad.utf8), campaign: nil, row: nil) }
        }
    }

    @Test func formBodiesRoundTrip() {
        let fields = [("A b", "c&d=e+f%"), ("Ü", ""), ("x", "🎉\n")]
        #expect(FormEncoding.decode(FormEncoding.encode(fields))?.map { [$0.0, $0.1] } == fields.map { [$0.0, $0.1] })
        #expect(FormEncoding.decode(Array("a=1+2&b&=3".utf8))?.map { [$0.0, $0.1] } == [["a", "1 2"], ["b", ""], ["", "3"]])
        #expect(FormEncoding.decode(Array("a=%4".utf8)) == nil && FormEncoding.decode(Array("a=%".utf8)) == nil)
    }

    func settings(_ yaml: String) throws(InputError) -> TwilioConfiguration {
        let map = try YAMLMap.load(file: "c.yaml", text: "provider:\n  kind: twilio\n" + yaml)
        guard let provider = try map.map("provider") else { throw InputError(file: "c.yaml", "no provider") }
        return try TwilioConfiguration(settings: provider)
    }

    @Test func settingsAreCheckedWhenTheCampaignLoads() throws {
        let twilio = try settings("  from: \"+15550100\"\n  account_sid: \(Self.account)\n  validity_period: 3600\n")
        #expect(twilio.from == "+15550100" && twilio.accountSID == Self.account && twilio.validityPeriod == 3600)
        #expect(twilio.sender == "+15550100" && twilio.endpoint == TwilioConfiguration.defaultEndpoint)
        for (yaml, expected) in [
            ("  account_sid: AC1\n  from: X\n", "c.yaml:3: provider.account_sid: \"AC1\" is not of the form AC and 32 hex digits"),
            ("  from: X\n  messaging_service_sid: \(Self.service)\n", "c.yaml:2: provider: set exactly one of from"),
            ("  validity_period: 10\n", "c.yaml:2: provider: set exactly one of from"),
            ("  from: X\n  validity_period: 0\n", "c.yaml:4: provider.validity_period: 0 is out of range 1...36000"),
            ("  from: X\n  max_price: 1\n", "c.yaml:4: unknown key \"max_price\" in provider"),
        ] {
            do {
                _ = try settings(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error.description)")
            }
        }
    }

    /// Parts as Twilio bills them: its segment calculator (TwilioDevEd/message-segment-calculator,
    /// `SegmentedMessage`) packs whole grapheme clusters; the 3GPP rule, which AWS follows, packs
    /// code points. The two differ only where a cluster of several code points straddles a part.
    @Test(arguments: [
        // 66 Cyrillic letters, "é" as e + U+0301, 66 more: Twilio keeps the é whole.
        (String(repeating: "ж", count: 66) + "e\u{301}" + String(repeating: "ж", count: 66), 2, 3),
        // A ZWJ emoji (woman, ZWJ, laptop: 5 UTF-16 units) across the first boundary.
        (String(repeating: "ж", count: 64) + "👩\u{200D}💻" + String(repeating: "ж", count: 64), 2, 3),
        // A flag of two regional indicators ending exactly at the boundary: the same.
        (String(repeating: "ж", count: 63) + "🇬🇧" + String(repeating: "ж", count: 60), 2, 2),
        // GSM-7: 161 letters are two parts either way; a CR LF pair is one cluster of two code
        // points, which makes Twilio's calculator choose UCS-2.
        (String(repeating: "a", count: 161), 2, 2),
        ("Hi Ada,\r\nyour code is K7Q2", 1, 1),
    ] as [(String, Int, Int)])
    func partsAsTwilioBillsThem(body: String, codePoints: Int, graphemes: Int) {
        #expect(SMSSegments(body: body, packing: .codePoints).parts == codePoints)
        #expect(SMSSegments(body: body, packing: .graphemes).parts == graphemes)
        #expect(SMSSegments(body: body, packing: .codePoints) == SMSSegments(body: body), "code points are the default")
        #expect(ContentTarget.twilio.smsPacking == .graphemes && ContentTarget.aws.smsPacking == .codePoints)
    }

    @Test func aCRLFPairMakesTwilioUCS2() {
        #expect(SMSSegments(body: "a\r\nb", packing: .graphemes).encoding == .ucs2)
        #expect(SMSSegments(body: "a\r\nb", packing: .codePoints).encoding == .gsm7)
        #expect(SMSSegments(body: "a\nb €", packing: .graphemes) == SMSSegments(encoding: .gsm7, parts: 1, units: 6))
    }
}
