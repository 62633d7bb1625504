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

    /// The client's IP address as text ("?" when unknown).
    var client: String { remoteAddress?.ipAddress ?? "?" }
}

/// Wrong tokens per client address: after `limit` failures within `window`, the client is
/// answered 429 with `Retry-After` until the window has passed. At most `maxClients`
/// addresses are tracked (the stalest are forgotten first).
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

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = attempts.retryAfter(context.client) {
            return secured(ReceiptServer.tooManyAttempts(retryAfter: wait))
        }
        guard hosts.allows(request.head.authority) else {
            return secured(ReceiptServer.text(.misdirectedRequest,
                                              "this dashboard does not answer to that Host (start it with --public-host NAME)"))
        }
        let response = try await next(request, context)
        if response.status == .unauthorized || response.status == .forbidden {
            attempts.failed(context.client)
        }
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

/// In front of the receipt routes: wrong tokens (answered 404) count as failed attempts,
/// and a client past its limit gets 429 before its body is read.
struct ReceiptGuard: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let attempts: AttemptLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = attempts.retryAfter(context.client) {
            return ReceiptServer.tooManyAttempts(retryAfter: wait)
        }
        let response = try await next(request, context)
        if response.status == .notFound { attempts.failed(context.client) }
        return response
    }
}
