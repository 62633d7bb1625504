import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldJournal
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// How `herald receipts serve` (and `herald worker --receipts-listen`) listens.
public struct ReceiptServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8787
    /// PEM files for HTTPS; both or neither.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// SNS topics whose subscriptions are confirmed and whose messages are taken.
    public var snsTopics: Set<String> = []
    /// Extra CAs a signing certificate must chain to (tests, private CAs).
    public var snsTrustedCAs: [String] = []
    /// A request must arrive whole within this long (slow clients are dropped).
    public var readTimeout: TimeAmount = .seconds(10)
    public var maxBody = 256 * 1024
    /// Sent messages with no final event after this long become `unknown`.
    public var receiptTimeout: Duration = .seconds(72 * 3600)
    /// Serve the dashboard too (`herald serve`).
    public var dashboard = false
    /// Needed by dashboard actions, and by every dashboard page when set.
    public var authToken: String?
    /// Names the dashboard answers to besides IP literals and `localhost` (`--public-host`).
    public var publicHosts: [String] = []
    /// Proxies whose `X-Forwarded-For` names the client the wrong-token limit counts against.
    public var trustedProxies = TrustedProxies()

    /// Whether `host` is a loopback address (anything else needs `authToken`).
    public var isLoopback: Bool { Loopback.contains(host) }

    public init() {}
}

/// The receipts endpoint: one Hummingbird application. Every route answers 2xx only
/// after its events are committed (a provider retrying after a crash loses nothing);
/// a wrong token is answered like an unknown path (404), compared in constant time.
/// Nothing it logs holds a phone number or a token.
public struct ReceiptServer: Sendable {
    let options: ReceiptServerOptions
    let journalPath: String
    let writer: ReceiptWriter
    let token: String
    /// Each route's handler, by route name (`Providers.routes`).
    let handlers: [String: any ReceiptHandler]
    let logger: Logger
    let metrics = MetricsEndpoint()

    public init(journalPath: String, options: ReceiptServerOptions, writer: ReceiptWriter,
                transport: any HTTPTransport, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.options = options
        self.journalPath = journalPath
        self.writer = writer
        token = try JournalOpener.receipts(journalPath).receiptToken()
        var logger = Logger(label: "herald.receipts")
        logger.logLevel = .notice
        self.logger = logger
        let base = PublicBase(journalPath: journalPath)
        let setup = ReceiptHandlerSetup(snsTopics: options.snsTopics, snsTrustedCAs: options.snsTrustedCAs, transport: transport,
                                        environment: environment, logger: logger, publicBase: { base.value })
        var handlers: [String: any ReceiptHandler] = [:]
        for route in Providers.routes { handlers[route.name] = try route.makeHandler(setup) }
        self.handlers = handlers
    }

    /// Serves until the task is cancelled or the process gets SIGTERM/SIGINT.
    /// `running` is called with the bound address (the port is chosen when 0).
    public func run(running: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let router = Router(context: HeraldRequestContext.self)
        router.get("/healthz") { _, _ in "ok\n" }
        // One count of wrong tokens per client for the receipt routes and the dashboard alike.
        let attempts = AttemptLog()
        router.group().add(middleware: ReceiptGuard(attempts: attempts, proxies: options.trustedProxies)).post("/receipts/:provider/:token") { request, context in
            try await self.receive(request, context)
        }
        let tls = options.tlsCertificate != nil && options.tlsKey != nil
        if options.dashboard {
            // Request durations for the dashboard's routes; the receipt routes count their
            // events instead (a timer per callback cost a sixth of their throughput).
            Dashboard(journalPath: journalPath, authToken: options.authToken, metrics: metrics, secureCookie: tls)
                .register(on: router.group()
                    .add(middleware: DashboardGuard(hosts: AllowedHosts(publicHosts: options.publicHosts), attempts: attempts, tls: tls,
                                                   proxies: options.trustedProxies))
                    .add(middleware: MetricsMiddleware()))
        }
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionClose.Installer(), RequestDeadline(limit: options.readTimeout)],
            idleTimeout: options.readTimeout * 6)
        var server: HTTPServerBuilder = .http1(configuration: http1)
        if let cert = options.tlsCertificate, let key = options.tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            // TLS 1.0 and 1.1 are broken (RFC 8996).
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(configuration: http1), tlsConfiguration: tls)
        }
        var quiet = Logger(label: "herald.http")
        quiet.logLevel = .critical
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            services: [ExpirySweep(journalPath: journalPath, timeout: options.receiptTimeout)],
            onServerRunning: { channel in
                let address = channel.localAddress
                running("\(address?.ipAddress ?? options.host):\(address?.port ?? options.port)")
            },
            logger: quiet)
        try await app.runService()
    }

    func receive(_ request: Request, _ context: HeraldRequestContext) async throws -> Response {
        guard Self.constantTimeEqual(context.parameters.get("token") ?? "", token),
            let route = context.parameters.get("provider").flatMap(Providers.route(named:)), let handler = handlers[route.name]
        else { return Response(status: .notFound) }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBody {
            return Response(status: .contentTooLarge)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: options.maxBody)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return Response(status: .contentTooLarge)
        }
        let reading: ReceiptReading
        do {
            reading = try await handler.read(ReceiptRequest(
                body: Array(buffer: buffer), query: Self.firstValues(request.uri.queryParameters.map { (String($0.key), String($0.value)) }),
                headers: Self.firstValues(request.headers.map { ($0.name.canonicalName, $0.value) }),
                target: request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")))
        } catch let error as ReceiptParseError {
            return Self.text(.badRequest, error.description)
        } catch let error as ReceiptRefusal {
            logger.notice("receipt refused", metadata: ["route": "\(route.name)", "reason": "\(error.description.printable)"])
            return Self.text(.forbidden, error.description)
        }
        guard case .events(let events, let recorded) = reading else {
            if case .answered(let text) = reading, !text.isEmpty { return Self.text(.ok, text) }
            return Response(status: .ok)
        }
        do {
            let result = try await writer.record(events)
            recorded?()
            if result.replayed > 0, result.replayed == events.count { return Self.text(.ok, "already taken") }
            metrics.received(route: route, types: events.map(\.type))
        } catch {
            logger.error("receipts not recorded", metadata: ["error": "\("\(error)".printable)"])
            return Self.text(.serviceUnavailable, "not recorded; send again")
        }
        return Response(status: .noContent)
    }

    /// The first value of each name.
    static func firstValues(_ pairs: [(String, String)]) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in pairs where values[name] == nil { values[name] = value }
        return values
    }

    /// 429 for a client past its failed attempts.
    static func tooManyAttempts(retryAfter seconds: Int) -> Response {
        var response = text(.tooManyRequests, "too many wrong tokens from this address; try again in \(seconds) s")
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    /// Compares every byte whatever the first difference, so timing tells nothing.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool { ConstantTime.equal(a, b) }
}

/// Marks sent messages with no final event after the receipt timeout `unknown`,
/// every ten minutes while the server runs.
struct ExpirySweep: Service {
    let journalPath: String
    let timeout: Duration

    func run() async throws {
        let (path, timeout) = (journalPath, timeout)
        // Stops at once on SIGTERM/SIGINT rather than finishing a ten-minute sleep.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let journal = try? JournalOpener.receipts(path) {
                    let cutoff = journal.currentTime() - Int64(timeout.components.seconds) * 1000
                    for campaign in (try? journal.campaigns()) ?? [] where campaign.mode == .real {
                        _ = try? journal.expireDeliveries(cid: campaign.cid, sentBefore: cutoff)
                    }
                }
                try await Task.sleep(for: .seconds(600))
            }
        }
    }
}

/// The journal's receipt base URL (`herald receipts url --base`), read again at most every 10 s.
final class PublicBase: Sendable {
    let journalPath: String
    private let cached = Mutex<(value: String?, at: ContinuousClock.Instant?)>((nil, nil))

    init(journalPath: String) { self.journalPath = journalPath }

    var value: String? {
        let now = ContinuousClock.now
        let (last, at) = cached.withLock { ($0.value, $0.at) }
        if let at, at.duration(to: now) < .seconds(10) { return last }
        let value = try? JournalOpener.receipts(journalPath).receiptSetting("base_url")
        cached.withLock { $0 = (value ?? nil, now) }
        return value ?? nil
    }
}
