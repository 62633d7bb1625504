import Foundation
import HeraldCore
import Synchronization
import SwiftASN1
import X509

/// Checks SNS messages before anything in them is believed: the topic is one the
/// user allowed, the certificate comes from an `https://sns.<region>.amazonaws.com/`
/// URL, and the signature (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) over
/// the message's string to sign is valid for that certificate's key.
///
/// Certificates are fetched over HTTPS (the TLS server is checked against the system's
/// trust roots), cached by URL and must be within their validity dates. With
/// `trustedCAs` (`--sns-trust-ca`, for tests and private CAs), a certificate must also
/// chain to one of them, checked with swift-certificates' RFC 5280 verifier.
public final class SNSVerifier: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case topicNotAllowed(String)
        case certificateURL(String)
        case certificate(String)
        case signature(String)
        case stale(String)

        public var description: String {
            switch self {
            case .topicNotAllowed(let topic): "topic \(topic.quoted) is not allowed (--sns-topic)"
            case .stale(let timestamp): "Timestamp \(timestamp.quoted) is not within an hour of now (a replay, or a clock far off)"
            case .certificateURL(let url): "SigningCertURL \(url) is not an https URL on sns.<region>.amazonaws.com"
            case .certificate(let detail): "signing certificate: \(detail)"
            case .signature(let detail): "signature: \(detail)"
            }
        }
    }

    private let allowedTopics: Set<String>
    private let trustedCAs: [Certificate]
    private let transport: any HTTPTransport
    /// Tests only (`HERALD_SNS_FETCH_VIA`): an `http://127.0.0.1:PORT` origin that takes
    /// the place of the SNS host when fetching (after the URL was checked).
    private let fetchVia: String?
    private let cache = Mutex<[String: Certificate]>([:])
    /// Messages taken within the last `maximumAge`: a signed message sent again is ignored.
    private let taken = Mutex(RecentMessages())

    /// How far a message's `Timestamp` may be from now, either way.
    public static let maximumAge: Double = 3600

    /// `trustedCAFiles`: PEM files of CAs signing certificates must chain to.
    public init(allowedTopics: Set<String>, trustedCAFiles: [String], transport: any HTTPTransport, fetchVia: String?) throws {
        self.allowedTopics = allowedTopics
        trustedCAs = try trustedCAFiles.flatMap { try Self.certificates(pemFile: $0) }
        self.transport = transport
        self.fetchVia = fetchVia
    }

    /// PEM certificates from a file, for `--sns-trust-ca`.
    static func certificates(pemFile path: String) throws -> [Certificate] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let documents = try PEMDocument.parseMultiple(pemString: text)
        return try documents.map { try Certificate(pemDocument: $0) }
    }

    public func verify(_ message: SNSMessage, now: Date = Date()) async throws(Failure) {
        guard allowedTopics.contains(message.topicARN) else { throw .topicNotAllowed(message.topicARN) }
        // Signed once, valid for ever: without this, an old message could be posted again.
        guard let sent = ISO8601.parse(message.timestamp), abs(now.timeIntervalSince1970 - sent) <= Self.maximumAge else {
            throw .stale(message.timestamp)
        }
        guard SNSMessage.isSNSURL(message.signingCertURL) else { throw .certificateURL(message.signingCertURL) }
        let algorithm: Certificate.SignatureAlgorithm
        switch message.signatureVersion {
        case "1": algorithm = .sha1WithRSAEncryption
        case "2": algorithm = .sha256WithRSAEncryption
        default: throw .signature("unknown SignatureVersion \(message.signatureVersion)")
        }
        guard let signature = Data(base64Encoded: message.signature) else { throw .signature("Signature is not base64") }
        let certificate = try await certificate(at: message.signingCertURL)
        guard certificate.publicKey.isValidSignature(signature, for: Array(message.stringToSign.utf8), signatureAlgorithm: algorithm) else {
            throw .signature("does not match the message")
        }
    }

    /// Whether this message was already taken (its `MessageId`, within the last hour). Ask
    /// after `verify`; `taken(_:)` once what it carried is committed, so a message whose
    /// first delivery failed is still taken when SNS tries it again.
    public func wasTaken(_ message: SNSMessage) -> Bool {
        taken.withLock { $0.contains(message.messageID) }
    }

    /// Remembers a message as taken, for an hour.
    public func taken(_ message: SNSMessage, now: Date = Date()) {
        taken.withLock { $0.insert(message.messageID, at: now.timeIntervalSince1970, keeping: Self.maximumAge) }
    }

    /// Confirms a subscription by fetching its `SubscribeURL` (which must be on an SNS
    /// host too). Call only after `verify`.
    public func confirm(_ message: SNSMessage) async throws(Failure) {
        guard let url = message.subscribeURL, SNSMessage.isSNSURL(url) else {
            throw .certificateURL(message.subscribeURL ?? "")
        }
        let response: HTTPResponseData
        do {
            response = try await transport.send(HTTPRequestData(method: "GET", url: fetchURL(url), headers: [], body: []))
        } catch {
            throw .signature("confirming the subscription failed: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw .signature("confirming the subscription failed: HTTP \(response.status)")
        }
    }

    private func fetchURL(_ url: String) -> String {
        guard let fetchVia, var components = URLComponents(string: url), let via = URLComponents(string: fetchVia) else { return url }
        components.scheme = via.scheme
        components.host = via.host
        components.port = via.port
        return components.string ?? url
    }

    private func certificate(at url: String) async throws(Failure) -> Certificate {
        if let known = cache.withLock({ $0[url] }) { return try checkDates(known) }
        let response: HTTPResponseData
        do {
            response = try await transport.send(HTTPRequestData(method: "GET", url: fetchURL(url), headers: [], body: []))
        } catch {
            throw .certificate("cannot fetch \(url): \(error)")
        }
        guard response.status == 200 else { throw .certificate("fetching \(url) answered HTTP \(response.status)") }
        let chain: [Certificate]
        do {
            chain = try PEMDocument.parseMultiple(pemString: String(decoding: response.body, as: UTF8.self))
                .map { try Certificate(pemDocument: $0) }
        } catch {
            throw .certificate("\(url) holds no readable PEM certificate")
        }
        guard let leaf = chain.first else { throw .certificate("\(url) holds no certificate") }
        if !trustedCAs.isEmpty {
            var verifier = Verifier(rootCertificates: CertificateStore(trustedCAs)) { RFC5280Policy(validationTime: Date()) }
            let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
            guard case .validCertificate = result else { throw .certificate("does not chain to a trusted CA (--sns-trust-ca)") }
        }
        _ = try checkDates(leaf)
        cache.withLock { $0[url] = leaf }
        return leaf
    }

    private func checkDates(_ certificate: Certificate) throws(Failure) -> Certificate {
        let now = Date()
        guard certificate.notValidBefore <= now, now <= certificate.notValidAfter else { throw .certificate("expired or not yet valid") }
        return certificate
    }
}

/// Message ids seen recently, oldest first, forgotten after the age they are kept for and
/// never more than `limit` of them (the oldest go first: past that, a replay is still
/// harmless, because recording an event twice changes nothing).
struct RecentMessages: Sendable {
    static let limit = 100_000
    private var ids: Set<String> = []
    private var order: [(id: String, at: Double)] = []
    private var head = 0

    func contains(_ id: String) -> Bool { ids.contains(id) }

    mutating func insert(_ id: String, at time: Double, keeping age: Double) {
        while head < order.count, order[head].at < time - age || ids.count >= Self.limit {
            ids.remove(order[head].id)
            head += 1
        }
        if head > 4096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        if ids.insert(id).inserted { order.append((id, time)) }
    }
}
