import AsyncHTTPClient
import HeraldTestSupport
import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// `--tls-cert`/`--tls-key`: the receiver speaks HTTPS with the given certificate
/// (here issued for 127.0.0.1 by a CA the client trusts), and plain HTTP gets nothing.
@Suite struct ReceiptTLSTests {
    /// A self-signed certificate for 127.0.0.1 and its key, written as `cert.pem` and `key.pem`;
    /// returns the certificate's PEM for the client to trust.
    static func writeLoopbackCertificate(_ fixture: CLIFixture) throws -> String {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName("127.0.0.1") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: Date() - 3600,
            notValidAfter: Date() + 86400, issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key))
        let pem = try certificate.serializeAsPEM().pemString
        try fixture.write("cert.pem", pem)
        try fixture.write("key.pem", key.pemRepresentation)
        return pem
    }

    @Test func servesHTTPSWithTheGivenCertificate() async throws {
        let fixture = try CLIFixture()
        let pem = try Self.writeLoopbackCertificate(fixture)
        let server = try ReceiptServerProcess(fixture, arguments: ["--tls-cert", "cert.pem", "--tls-key", "key.pem"])
        defer { _ = server.stop() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/receipts/agile/\(server.token)")
        request.method = .POST
        request.body = .bytes(Array(#"{"eventType":"DELIVERY","messageId":"over-tls","statusCode":3}"#.utf8))
        let response = try await client.execute(request, timeout: .seconds(10))
        try await client.shutdown()
        #expect(response.status.code == 204)
        #expect(RawHTTP.request(port: server.port, method: "GET", path: "/healthz")?.status != 200, "no plain HTTP on a TLS port")
        // Issue 21, finding 7: TLS 1.0 and 1.1 are refused (RFC 8996); 1.2 is the least.
        for (version, accepted) in [(TLSVersion.tlsv1, false), (.tlsv11, false), (.tlsv12, true)] {
            var old = tls
            old.minimumTLSVersion = .tlsv1
            old.maximumTLSVersion = version
            let oldClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: old))
            let answered = (try? await oldClient.execute(HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/healthz"),
                                                         timeout: .seconds(3)))?.status.code
            try await oldClient.shutdown()
            #expect((answered == 200) == accepted, "\(version): \(String(describing: answered))")
        }
    }

    /// Under TLS the dashboard's session cookie is `Secure`.
    @Test func theDashboardCookieIsSecureUnderTLS() async throws {
        let fixture = try CLIFixture()
        let pem = try Self.writeLoopbackCertificate(fixture)
        let token = "tls-dashboard-token-0123456789ab"
        let server = try ReceiptServerProcess(fixture, arguments: ["--tls-cert", "cert.pem", "--tls-key", "key.pem", "--auth-token", token],
                                              dashboard: true)
        defer { _ = server.stop() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        var login = HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        login.body = .bytes(Array("token=\(token)".utf8))
        let response = try await client.execute(login, timeout: .seconds(10))
        try await client.shutdown()
        #expect(response.status.code == 303)
        let cookie = response.headers.first(name: "set-cookie") ?? ""
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly"), "\(cookie)")
        #expect(response.headers.first(name: "strict-transport-security") == "max-age=31536000")
    }
}
