import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `HTTPTransport` over one AsyncHTTPClient per process: a pool of
/// `maxConnections` per host, connect and read timeouts, shut down cleanly. The
/// client is made on the first request, so a transport a provider never used
/// (its setup failed) needs no shutdown.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let configuration: HTTPClient.Configuration
    private let made = Mutex<HTTPClient?>(nil)
    private let timeout: TimeAmount

    private var client: HTTPClient {
        made.withLock { made in
            if let client = made { return client }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            made = client
            return client
        }
    }

    public init(maxConnections: Int, connectTimeout: TimeAmount = .seconds(5), requestTimeout: TimeAmount = .seconds(30)) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        configuration.timeout = .init(connect: connectTimeout, read: requestTimeout)
        // A request that gets no connection fails at once with the connection's error (refused:
        // provably not sent, so failover may move its row) instead of waiting queued for its
        // deadline and failing as `deadlineExceeded`, which cannot be told from a request that
        // left. Herald retries with its own backoff.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
        timeout = requestTimeout
    }

    public func send(_ request: HTTPRequestData) async throws(TransportError) -> HTTPResponseData {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(request.body)
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return HTTPResponseData(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                                    body: Array(buffer: body))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Connection refused or a connect timeout: the request never left. Anything
    /// later (closed, reset, timed out while waiting) may have been received.
    static func classify(_ error: any Error) -> TransportError {
        let text = "\(error)"
        if error is NIOConnectionError { return .notSent(text) }
        if let error = error as? HTTPClientError, error == .connectTimeout { return .notSent(text) }
        if let error = error as? ChannelError, case .connectTimeout = error { return .notSent(text) }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return .notSent(text) }
        return .indeterminate(text)
    }

    public func shutdown() async {
        let client = made.withLock { made in
            defer { made = nil }
            return made
        }
        try? await client?.shutdown()
    }
}

#if canImport(Glibc)
import Glibc
#endif
