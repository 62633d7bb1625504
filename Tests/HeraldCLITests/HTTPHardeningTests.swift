import Foundation
import HeraldServer
import HeraldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 21, findings 3, 5, 7 and 8, against the real binary: what a hostile client or a
/// hostile page gets from `herald serve` and `herald receipts serve`.
@Suite(.serialized) struct HTTPHardeningTests {
    static let token = "hardening-token-0123456789abcdef"

    func get(_ server: ReceiptServerProcess, _ path: String, headers: [(String, String)] = []) -> RawHTTP.Response? {
        RawHTTP.request(port: server.port, method: "GET", path: path, headers: headers)
    }

    var bearer: (String, String) { ("Authorization", "Bearer \(Self.token)") }

    /// Finding 3: wrong tokens cannot be tried without limit. After ten in a minute, the
    /// address's further wrong tokens get 429 with Retry-After; on the receipt routes too (a
    /// wrong path token is a 404 and counts). Issue 36, finding 3: the right token from that
    /// address is still answered: behind a proxy every provider shares one address, and ten
    /// wrong requests must not switch receipts or the dashboard off.
    @Test func wrongTokensAreLimitedPerAddressAndTheRightOneNever() throws {
        let fixture = try CLIFixture()
        let dashboard = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token], dashboard: true)
        defer { _ = dashboard.stop() }
        for attempt in 0..<10 {
            #expect(get(dashboard, "/api/campaigns", headers: [("Authorization", "Bearer wrong-\(attempt)")])?.status == 401)
        }
        let blocked = try #require(get(dashboard, "/api/campaigns", headers: [("Authorization", "Bearer wrong-11")]))
        #expect(blocked.status == 429, "\(blocked.status) \(blocked.body)")
        let wait = Int(blocked.header("Retry-After") ?? "") ?? 0
        #expect((1...60).contains(wait), "Retry-After \(blocked.header("Retry-After") ?? "none")")
        #expect(get(dashboard, "/api/campaigns", headers: [bearer])?.status == 200, "the right token is never locked out")

        let receipts = try ReceiptServerProcess(fixture)
        defer { _ = receipts.stop() }
        let valid = #"{"eventType":"DELIVERY","messageId":"m","statusCode":3}"#
        for attempt in 0..<10 {
            #expect(receipts.post("agile", valid, token: "guess-\(attempt)")?.status == 404)
        }
        #expect(receipts.post("agile", valid, token: "guess-11")?.status == 429, "further guesses from that address wait")
        #expect(receipts.post("agile", valid)?.status == 204, "the right token is still taken")
    }

    /// `X-Forwarded-For` names the client only when the peer is a proxy named with
    /// `--trusted-proxy`; from anyone else it is ignored (a guesser could name a new
    /// address in every request).
    @Test func forwardedAddressesCountOnlyFromTrustedProxies() throws {
        let fixture = try CLIFixture()
        let valid = #"{"eventType":"DELIVERY","messageId":"m","statusCode":3}"#
        let proxied = try ReceiptServerProcess(fixture, arguments: ["--trusted-proxy", "127.0.0.1"])
        defer { _ = proxied.stop() }
        for attempt in 0..<10 {
            let forwarded = [("X-Forwarded-For", "198.51.100.20, 203.0.113.7")]
            #expect(proxied.post("agile", valid, token: "guess-\(attempt)", headers: forwarded)?.status == 404)
        }
        #expect(proxied.post("agile", valid, token: "guess", headers: [("X-Forwarded-For", "203.0.113.7")])?.status == 429)
        #expect(proxied.post("agile", valid, token: "typo", headers: [("X-Forwarded-For", "198.51.100.9")])?.status == 404,
                "another client behind the same proxy is not held back")

        let direct = try ReceiptServerProcess(fixture)
        defer { _ = direct.stop() }
        for attempt in 0..<10 {
            #expect(direct.post("agile", valid, token: "guess-\(attempt)", headers: [("X-Forwarded-For", "192.0.2.\(attempt)")])?.status == 404)
        }
        #expect(direct.post("agile", valid, token: "guess", headers: [("X-Forwarded-For", "192.0.2.99")])?.status == 429,
                "a header from an untrusted peer names nobody")
    }

    @Test(arguments: [
        ("127.0.0.1", ["203.0.113.7"], ["10.0.0.5"], "127.0.0.1"),                     // the peer is no trusted proxy
        ("10.0.0.5", ["203.0.113.7"], ["10.0.0.5"], "203.0.113.7"),
        ("10.0.0.5", ["198.51.100.1, 203.0.113.7, 10.0.0.6"], ["10.0.0.5", "10.0.0.6"], "203.0.113.7"),
        ("10.0.0.5", ["198.51.100.1", "203.0.113.7"], ["10.0.0.5"], "203.0.113.7"),     // the last header is the nearest hop
        ("10.0.0.5", ["not-an-address, 203.0.113.7"], ["10.0.0.5"], "203.0.113.7"),
        ("10.0.0.5", ["203.0.113.7, junk"], ["10.0.0.5"], "10.0.0.5"),                // the proxy's own entry is unreadable
        ("10.0.0.5", [], ["10.0.0.5"], "10.0.0.5"),
        ("::ffff:10.0.0.5", ["2001:db8::1"], ["::FFFF:10.0.0.5"], "2001:db8::1"),
    ] as [(String, [String], [String], String)])
    func theClientBehindTrustedProxies(peer: String, headers: [String], trusted: [String], client: String) {
        #expect(TrustedProxies(trusted).client(peer: peer, forwardedFor: headers) == client)
    }

    /// Finding 5: a page on another site that points its own name at 127.0.0.1 (DNS
    /// rebinding) gets 421; IP literals, localhost and `--public-host` names are answered.
    /// Finding 8: security headers on every dashboard answer; the page's one script runs by
    /// a nonce named in its policy.
    @Test func onlyKnownHostsAreAnsweredAndEveryAnswerCarriesTheSecurityHeaders() throws {
        let fixture = try CLIFixture()
        let server = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token, "--public-host", "herald.example"],
                                              dashboard: true)
        defer { _ = server.stop() }
        for host in ["127.0.0.1:\(server.port)", "localhost:\(server.port)", "[::1]:\(server.port)", "herald.example", "HERALD.example:443"] {
            #expect(get(server, "/api/campaigns", headers: [bearer, ("Host", host)])?.status == 200, "\(host)")
        }
        for host in ["evil.example", "127.0.0.1.nip.io:\(server.port)", "herald.example.evil.example", "[not-an-address]"] {
            #expect(get(server, "/api/campaigns", headers: [bearer, ("Host", host)])?.status == 421, "\(host)")
        }
        let page = try #require(get(server, "/", headers: [bearer]))
        #expect(page.status == 200)
        let policy = page.header("Content-Security-Policy") ?? ""
        #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(policy)")
        let nonce = try #require(policy.components(separatedBy: "'nonce-").dropFirst().first?.components(separatedBy: "'").first)
        #expect(page.body.contains("<script nonce=\"\(nonce)\">"), "the script carries the policy's nonce")
        for answer in [page, try #require(get(server, "/api/campaigns", headers: [bearer])), try #require(get(server, "/campaigns/none", headers: [bearer])),
                       try #require(get(server, "/", headers: []))] {
            #expect(answer.header("X-Frame-Options") == "DENY" && answer.header("X-Content-Type-Options") == "nosniff", "\(answer.status)")
            #expect(answer.header("Referrer-Policy") == "no-referrer" && answer.header("Content-Security-Policy") != nil)
        }
    }

    /// Finding 8: no token in a URL (histories, proxies' logs, Referer): `?token=` opens
    /// nothing; the login form sets an HttpOnly, SameSite=Strict cookie that does.
    @Test func theTokenGoesInAFormNeverInAURL() throws {
        let fixture = try CLIFixture()
        let server = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token], dashboard: true)
        defer { _ = server.stop() }
        let query = try #require(get(server, "/?token=\(Self.token)"))
        #expect(query.status == 401 && query.body.contains("action=\"/login\""), "the login form, not the page")
        #expect(get(server, "/api/campaigns?token=\(Self.token)")?.status == 401)
        let refused = try #require(RawHTTP.request(port: server.port, path: "/login", body: Array("token=wrong".utf8),
                                                  headers: [("Content-Type", "application/x-www-form-urlencoded")]))
        #expect(refused.status == 401 && refused.header("Set-Cookie") == nil)
        let login = try #require(RawHTTP.request(port: server.port, path: "/login", body: Array("token=\(Self.token)".utf8),
                                                headers: [("Content-Type", "application/x-www-form-urlencoded")]))
        #expect(login.status == 303 && login.header("Location") == "/")
        let cookie = try #require(login.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"), "plain HTTP: \(cookie)")
        let pair = String(cookie.split(separator: ";")[0])
        #expect(get(server, "/", headers: [("Cookie", pair)])?.status == 200)
    }

    /// Finding 7: an HTTP/1.0 request without keep-alive (and an HTTP/1.1 one asking to
    /// close) gets its answer with `Connection: close`, then the server closes.
    @Test func connectionsThatAskToCloseAreClosed() throws {
        let fixture = try CLIFixture()
        let server = try ReceiptServerProcess(fixture)
        defer { _ = server.stop() }
        for request in ["GET /healthz HTTP/1.0\r\n\r\n", "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"] {
            let socket = RawHTTP.connect(port: server.port)
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let started = Date()
            #expect(RawHTTP.write(socket, Array(request.utf8)))
            let answer = RawHTTP.readAll(socket).flatMap(RawHTTP.parse)
            close(socket)
            #expect(answer?.status == 200 && answer?.header("Connection")?.lowercased() == "close", "\(request)")
            #expect(Date().timeIntervalSince(started) < 2, "closed by the server, not by the client's timeout: \(request)")
        }
    }
}

/// Finding 9: the recipient export is made once for readers who ask together, sent as they
/// take it, and leaves no file behind, whether they read it all or go away halfway.
@Suite(.serialized) struct ExportTests {
    @Test func slowAndVanishingReadersLeaveNothingBehind() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(20_000).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("big")
        #expect(try HeraldProcess.run(["run", file, "--journal", "journal.sqlite"], in: fixture.folder).status == 0)
        let temporary = fixture.folder.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        let server = try ReceiptServerProcess(fixture, environment: ["TMPDIR": temporary.path + "/"], dashboard: true)
        defer { _ = server.stop() }
        let request = Array("GET /campaigns/big/recipients.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        // Ten readers that take 4 KiB and go away, and one that reads it all slowly.
        var vanishing: [Int32] = []
        for _ in 0..<10 {
            let socket = RawHTTP.connect(port: server.port)
            #expect(RawHTTP.write(socket, request))
            var buffer = [UInt8](repeating: 0, count: 4096)
            #expect(recv(socket, &buffer, buffer.count, 0) > 0)
            vanishing.append(socket)
        }
        let slow = RawHTTP.connect(port: server.port)
        #expect(RawHTTP.write(slow, Array("GET /campaigns/big/recipients.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)))
        for socket in vanishing { close(socket) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = recv(slow, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
            if received.count < 200_000 { usleep(2_000) }
        }
        close(slow)
        let answer = try #require(RawHTTP.parse(received))
        #expect(answer.status == 200)
        #expect(answer.body.split(separator: "\n").count == 20_001, "a header and every recipient")
        #expect(answer.body.contains("+1******") && !answer.body.contains("+120155501"), "masked")
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path)
        #expect(left.isEmpty, "nothing left in the temporary folder: \(left)")
    }
}
