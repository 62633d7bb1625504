import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Hummingbird's request context plus the client's address, which the failed-attempt limit
/// counts by, and its connection.
public struct HeraldRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The connection, for answers that must wait while the client is slow to take them.
    let channel: any NIOCore.Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The connection's peer IP address as text ("?" when unknown).
    var peer: String { remoteAddress?.ipAddress ?? "?" }

    /// The client a request counts against: the peer, or behind a proxy named with
    /// `--trusted-proxy` the address that proxy says it forwarded for.
    func client(of request: Request, trusting proxies: TrustedProxies) -> String {
        proxies.client(peer: peer, forwardedFor: request.headers[values: HTTPField.Name("X-Forwarded-For")!])
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`, IP addresses). From
/// any other peer the header is ignored: a client could name any address in it.
public struct TrustedProxies: Sendable, Equatable {
    public let addresses: Set<String>

    public init(_ addresses: [String] = []) {
        self.addresses = Set(addresses.map(Self.canonical))
    }

    /// The nearest address that is not a trusted proxy: the peer itself unless it is one;
    /// else the `X-Forwarded-For` entries read from the right (the nearest hop first),
    /// skipping trusted proxies. An entry that is not an IP address ends the walk at the
    /// hop that wrote it.
    public func client(peer: String, forwardedFor headers: [String]) -> String {
        guard addresses.contains(Self.canonical(peer)) else { return peer }
        var client = peer
        let hops = headers.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard Self.isAddress(hop) else { return client }
            client = Self.canonical(hop)
            if !addresses.contains(client) { return client }
        }
        return client
    }

    /// Whether `text` is an IPv4 or IPv6 address literal.
    public static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// One spelling per address (`::FFFF:1.2.3.4` and `::ffff:1.2.3.4` alike).
    static func canonical(_ text: String) -> String {
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return text }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return text }
        return String(cString: buffer)
    }
}

/// Wrong tokens per client address: after `limit` failures within `window`, the client's
/// further wrong tokens are answered 429 with `Retry-After` until the window has passed. The
/// right token is never refused: the limit is on guesses, so ten wrong requests from an
/// address shared by many (a reverse proxy, a provider's egress) cannot switch receipts or
/// the dashboard off. At most `maxClients` addresses are tracked (the stalest are forgotten first).
struct FailedAttempts: Sendable {
    var limit = 10
    var window: Double = 60
    static let maxClients = 10_000
    private var clients: [String: (since: Double, count: Int)] = [:]

    init(limit: Int = 10, window: Double = 60) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `client` may try again, or nil when it may now.
    func retryAfter(_ client: String, now: Double) -> Int? {
        guard let entry = clients[client], entry.count >= limit, now - entry.since < window else { return nil }
        return max(1, Int((entry.since + window - now).rounded(.up)))
    }

    mutating func failed(_ client: String, now: Double) {
        if clients.count >= Self.maxClients, clients[client] == nil {
            clients = clients.filter { now - $0.value.since < window }
            if clients.count >= Self.maxClients, let stalest = clients.min(by: { $0.value.since < $1.value.since }) {
                clients[stalest.key] = nil
            }
        }
        if let entry = clients[client], now - entry.since < window {
            clients[client] = (entry.since, entry.count + 1)
        } else {
            clients[client] = (now, 1)
        }
    }
}

/// One count of failed attempts shared by the routes of a server.
final class AttemptLog: Sendable {
    private let state: Mutex<FailedAttempts>

    init(_ attempts: FailedAttempts = FailedAttempts()) { state = Mutex(attempts) }

    func retryAfter(_ client: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        state.withLock { $0.retryAfter(client, now: now) }
    }

    func failed(_ client: String, now: Double = Date().timeIntervalSince1970) {
        state.withLock { $0.failed(client, now: now) }
    }
}

/// The names a dashboard answers to, so that a page on another site cannot reach it by
/// pointing its own DNS name at this machine (DNS rebinding): IP literals (a browser that
/// uses one is on that origin), `localhost`, and `--public-host` names.
struct AllowedHosts: Sendable {
    let names: Set<String>

    init(publicHosts: [String]) {
        names = Set(publicHosts.map { $0.lowercased() } + ["localhost"])
    }

    /// `authority` as the request's Host gives it (`name`, `name:port`, `[v6]:port`); none is allowed
    /// (an HTTP/1.0 client may not send one, and a browser always does).
    func allows(_ authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return true }
        var host = authority.lowercased()
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<end])
            var v6 = in6_addr()
            return inet_pton(AF_INET6, host, &v6) == 1
        }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if host.hasSuffix(".") { host.removeLast() }
        var v4 = in_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || names.contains(host)
    }
}

/// In front of every dashboard route: a client past its failed attempts gets 429, a Host the
/// dashboard does not answer to gets 421, every answer carries the security headers, and
/// each 401 or 403 counts as a failed attempt.
struct DashboardGuard: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let hosts: AllowedHosts
    let attempts: AttemptLog
    let tls: Bool

    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard hosts.allows(request.head.authority) else {
            return secured(ReceiptServer.text(.misdirectedRequest,
                                              "this dashboard does not answer to that Host (start it with --public-host NAME)"))
        }
        // The handler checks the token before it reads anything else.
        let response = try await next(request, context)
        guard response.status == .unauthorized || response.status == .forbidden else { return secured(response) }
        let client = context.client(of: request, trusting: proxies)
        if let wait = attempts.retryAfter(client) { return secured(ReceiptServer.tooManyAttempts(retryAfter: wait)) }
        attempts.failed(client)
        return secured(response)
    }

    /// The headers every dashboard answer carries: no framing, no sniffing, no referrer, no
    /// caching, a strict content policy unless the page set its own, and HSTS under TLS.
    func secured(_ response: Response) -> Response {
        var response = response
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = Self.policy(script: nil)
        }
        if tls { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }

    /// The content security policy: nothing from elsewhere, inline styles (the report's SVG
    /// charts use them), and only the script carrying `nonce`, when there is one.
    static func policy(script nonce: String?) -> String {
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            + (nonce.map { "; script-src 'nonce-\($0)'" } ?? "")
    }
}

/// In front of the receipt routes: wrong tokens (answered 404, before the body is read)
/// count as failed attempts, and a client past its limit gets 429 for them instead; the
/// right token always reaches the route.
struct ReceiptGuard: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let attempts: AttemptLog
    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard response.status == .notFound else { return response }
        let client = context.client(of: request, trusting: proxies)
        if let wait = attempts.retryAfter(client) { return ReceiptServer.tooManyAttempts(retryAfter: wait) }
        attempts.failed(client)
        return response
    }
}
