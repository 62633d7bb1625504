import Crypto
import Foundation
import HeraldTestSupport
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// AWS events through an SNS HTTPS subscription, against the real binary: a test CA
/// (`--sns-trust-ca`) issues the signing certificate, served from a loopback server
/// that stands in for sns.<region>.amazonaws.com (`HERALD_SNS_FETCH_VIA`, tests only).
@Suite(.serialized) struct ReceiptSNSTests {
    struct Authority {
        let caPEM: String
        let leafPEM: String
        let key: _RSA.Signing.PrivateKey

        /// A CA, and an SNS-like signing certificate issued by it (or self-signed).
        init(selfSigned: Bool = false) throws {
            let caKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let caName = try DistinguishedName { CommonName("Herald Test CA") }
            let now = Date()
            let ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: now - 3600,
                notValidAfter: now + 86400, issuer: caName, subject: caName, signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: .init(caKey))
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let subject = try DistinguishedName { CommonName("sns.amazonaws.com") }
            let leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 3600,
                notValidAfter: now + 86400, issuer: selfSigned ? subject : caName, subject: subject,
                signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions { Critical(KeyUsage(digitalSignature: true)) },
                issuerPrivateKey: .init(selfSigned ? key : caKey))
            caPEM = try ca.serializeAsPEM().pemString
            leafPEM = try leaf.serializeAsPEM().pemString
        }

        /// An SNS message body with its signature (version 1: SHA1, 2: SHA256).
        func message(type: String, topic: String, message: String, version: String = "2",
                     certURL: String = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
                     tamper: Bool = false, sent: Date = Date()) throws -> String {
            let timestamp = ISO8601DateFormatter()
            timestamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var fields: [String: String] = [
                "Type": type, "MessageId": UUID().uuidString, "TopicArn": topic, "Message": message,
                "Timestamp": timestamp.string(from: sent), "SignatureVersion": version, "SigningCertURL": certURL,
            ]
            var order = ["Message", "MessageId"]
            if type == "Notification" {
                order += ["Timestamp", "TopicArn", "Type"]
                fields["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            } else {
                fields["Token"] = "token-123"
                fields["SubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=token-123"
                order += ["SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
            }
            let text = order.map { "\($0)\n\(fields[$0]!)\n" }.joined()
            let signature = version == "1"
                ? try key.signature(for: Insecure.SHA1.hash(data: Array(text.utf8)), padding: .insecurePKCS1v1_5)
                : try key.signature(for: SHA256.hash(data: Array(text.utf8)), padding: .insecurePKCS1v1_5)
            fields["Signature"] = signature.rawRepresentation.base64EncodedString()
            if tamper { fields["Message"] = String(message.dropLast()) + (message.hasSuffix("}") ? " }" : "x") }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    static let topic = "arn:aws:sns:us-east-1:123456789012:herald-events"

    func record(row: Int, type: String = "TEXT_DELIVERED") -> String {
        #"{"eventType":"\#(type)","eventVersion":"1.0","eventTimestamp":1764496800000,"isFinal":true,"messageId":"aws-\#(row)","messageStatus":"\#(type == "TEXT_DELIVERED" ? "DELIVERED" : "BLOCKED")","messageStatusDescription":"ok","totalMessagePrice":0.0058,"totalCarrierFee":0.0002,"context":{"campaign":"agile","herald_row":"\#(row)"}}"#
    }

    @Test func signedMessagesAreTakenAndForgedOnesRefused() async throws {
        let fixture = try CLIFixture()
        _ = try await ReceiptServerTests().sentAgileCampaign(fixture, count: 3)
        let authority = try Authority()
        let stranger = try Authority(selfSigned: true)
        try fixture.write("ca.pem", authority.caPEM)
        let aws = try await LoopbackServer { request in
            if request.uri.hasSuffix("stranger.pem") { return .respond(status: 200, body: stranger.leafPEM) }
            if request.uri.hasSuffix(".pem") { return .respond(status: 200, body: authority.leafPEM) }
            return .respond(status: 200, body: "<ConfirmSubscriptionResponse/>")
        }
        defer { Task { try? await aws.shutdown() } }
        let server = try ReceiptServerProcess(
            fixture, arguments: ["--sns-topic", Self.topic, "--sns-trust-ca", "ca.pem"],
            environment: ["HERALD_SNS_FETCH_VIA": aws.url])
        func post(_ body: String, type: String) -> Int? {
            server.post("sns", body, headers: [("x-amz-sns-message-type", type)])?.status
        }
        // A confirmation for an allowed topic is confirmed (SignatureVersion 1)...
        #expect(post(try authority.message(type: "SubscriptionConfirmation", topic: Self.topic, message: "confirm", version: "1"),
                     type: "SubscriptionConfirmation") == 200)
        #expect(aws.requests.contains { $0.uri.contains("Action=ConfirmSubscription") })
        // ...one for another topic is not, and nothing is fetched for it.
        let before = aws.requests.count
        #expect(post(try authority.message(type: "SubscriptionConfirmation", topic: Self.topic + "-other", message: "c"),
                     type: "SubscriptionConfirmation") == 403)
        #expect(aws.requests.count == before)
        // Notifications: signed (v2 and v1) are recorded.
        #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 2)), type: "Notification") == 204)
        #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 3, type: "TEXT_BLOCKED"),
                                           version: "1"), type: "Notification") == 204)
        // One changed byte, a certificate from nobody we trust, a certificate URL off SNS:
        // refused, nothing recorded.
        #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 4), tamper: true),
                     type: "Notification") == 403)
        #expect(post(try stranger.message(type: "Notification", topic: Self.topic, message: record(row: 4),
                                          certURL: "https://sns.us-east-1.amazonaws.com/stranger.pem"), type: "Notification") == 403)
        #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 4),
                                           certURL: "https://sns.us-east-1.evil.example/SimpleNotificationService-test.pem"),
                     type: "Notification") == 403)
        #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 4)),
                     type: "SubscriptionConfirmation") == 400, "the header must name the same type")
        // Issue 21, finding 7: a signed message more than an hour old (or ahead) is refused, and
        // one taken already is not taken again (its MessageId is remembered for the hour).
        for sent in [Date() - 3700, Date() + 3700] {
            #expect(post(try authority.message(type: "Notification", topic: Self.topic, message: record(row: 4), sent: sent),
                         type: "Notification") == 403)
        }
        let once = try authority.message(type: "Notification", topic: Self.topic, message: record(row: 4))
        #expect(post(once, type: "Notification") == 204)
        #expect(post(once, type: "Notification") == 200, "the same message again: ignored")
        // Finding 6: a topic with a newline (and an escape sequence) cannot forge a log line.
        #expect(post(try authority.message(type: "Notification", topic: Self.topic + "\nherald forged: \u{1B}[31m",
                                           message: record(row: 4)), type: "Notification") == 403)
        let stopped = server.stop()
        #expect(!stopped.stderr.contains("\nherald forged") && !stopped.stderr.contains("\u{1B}[31m"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("herald forged"), "the refusal is logged, escaped: \(stopped.stderr)")
        #expect(stopped.stdout.contains("3 matched, 0 unmatched"), "\(stopped.stdout)\n\(stopped.stderr)")
        let status = try HeraldProcess.run(["status", "agile", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let delivery = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["delivery"] as? [String: Any]
        #expect(delivery?["delivered"] as? Int == 2 && delivery?["undelivered_by_code"] as? [String: Int] == ["BLOCKED": 1],
                "\(String(describing: delivery))")
        #expect(delivery?["provider_reported_cost"] as? String == "0.018", "AWS's price and carrier fee, for all three")
    }
}
