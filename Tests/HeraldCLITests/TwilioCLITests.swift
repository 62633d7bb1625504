import Foundation
import HeraldProviders
import HeraldTestSupport
import Synchronization
import Testing

/// Twilio end to end with the real binary: a campaign sent to a loopback Twilio API, its status
/// callbacks posted to `herald receipts serve`, signed as Twilio signs them. A forged or
/// unsigned callback is refused (403) and records nothing.
@Suite(.serialized) struct TwilioCLITests {
    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let authToken = "test-auth-token-not-a-secret"

    @Test func aCampaignSentThroughTwilioAndItsSignedCallbacks() async throws {
        let fixture = try CLIFixture()
        let sent = Mutex<[[String: String]]>([])
        let api = try await LoopbackServer { request in
            var fields: [String: String] = [:]
            for (name, value) in FormEncoding.decode(request.body) ?? [] { fields[name] = value }
            fields["path"] = request.uri
            let count = sent.withLock { sent -> Int in
                sent.append(fields)
                return sent.count
            }
            return .respond(status: 201, body: #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#)
        }
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("tw", provider: "{kind: twilio, endpoint: \"\(api.url)\", account_sid: \(Self.account), from: \"+15550100\"}")
        let environment = ["TWILIO_AUTH_TOKEN": Self.authToken]
        let server = try ReceiptServerProcess(fixture, environment: environment)
        defer { _ = server.stop() }
        let run = try HeraldProcess.run(["run", file, "--journal", "journal.sqlite"], in: fixture.folder, environment: environment)
        try await api.shutdown()
        #expect(run.status == 0 && run.stdout.contains("3 sent"), "\(run.stdout)\n\(run.stderr)")
        let requests = sent.withLock { $0 }
        let callback = "https://receipts.example/receipts/twilio/\(server.token)"
        #expect(requests.count == 3)
        #expect(Set(requests.compactMap { $0["To"] }) == Set(CLIFixture.rows(3).map(\.phone)))
        for request in requests {
            #expect(request["path"] == "/2010-04-01/Accounts/\(Self.account)/Messages.json")
            #expect(request["From"] == "+15550100" && request["Body"]?.hasPrefix("Hi Person ") == true)
            #expect(request["StatusCallback"]?.hasPrefix(callback + "?herald_campaign=tw&herald_row=") == true, "\(request)")
        }
        // Twilio posts to the URL it was given, signed with the auth token.
        func post(row: Int, sid: Int, status: String, extra: String = "", signature: String? = nil) -> Int? {
            let query = "?herald_campaign=tw&herald_row=\(row)"
            let body = "MessageSid=SM\(String(format: "%032x", sid))&MessageStatus=\(status)&AccountSid=\(Self.account)\(extra)"
            let signed = signature ?? TwilioReceipts.signature(url: callback + query, fields: FormEncoding.decode(Array(body.utf8)) ?? [],
                                                                authToken: Self.authToken)
            return server.post("twilio", body, query: query, headers: [("X-Twilio-Signature", signed)])?.status
        }
        #expect(post(row: 2, sid: 1, status: "delivered") == 204)
        #expect(post(row: 3, sid: 2, status: "undelivered", extra: "&ErrorCode=30006") == 204)
        // Forged: the signature of another body, a signature with a wrong key, none at all.
        let other = TwilioReceipts.signature(url: callback + "?herald_campaign=tw&herald_row=4",
                                             fields: [("MessageSid", "SM" + String(format: "%032x", 3)), ("MessageStatus", "failed")],
                                             authToken: Self.authToken)
        #expect(post(row: 4, sid: 3, status: "delivered", signature: other) == 403)
        #expect(post(row: 4, sid: 3, status: "delivered",
                     signature: TwilioReceipts.signature(url: callback, fields: [], authToken: "wrong")) == 403)
        #expect(server.post("twilio", "MessageSid=SM\(String(format: "%032x", 3))&MessageStatus=delivered",
                            query: "?herald_campaign=tw&herald_row=4")?.status == 403)
        let stopped = server.stop()
        #expect(stopped.stderr.contains("X-Twilio-Signature does not match") && !stopped.stderr.contains(Self.authToken),
                "\(stopped.stderr)")
        let status = try HeraldProcess.run(["status", "tw", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let delivery = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["delivery"] as? [String: Any]
        #expect(delivery?["delivered"] as? Int == 1 && delivery?["undelivered"] as? Int == 1, "\(status.stdout)")
        #expect(delivery?["undelivered_by_code"] as? [String: Int] == ["30006": 1], "\(status.stdout)")
    }

    @Test func aReceiverWithoutTheAuthTokenRefusesTwilioCallbacks() throws {
        let fixture = try CLIFixture()
        let server = try ReceiptServerProcess(fixture)
        defer { _ = server.stop() }
        #expect(server.post("twilio", "MessageSid=SM\(String(format: "%032x", 1))&MessageStatus=delivered",
                            headers: [("X-Twilio-Signature", "AAAA")])?.status == 403)
        let stopped = server.stop()
        #expect(stopped.stderr.contains("TWILIO_AUTH_TOKEN"), "\(stopped.stderr)")
    }
}
