/// An HTTP request as an adapter builds it: everything it signs is here.
public struct HTTPRequestData: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponseData: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Why a request got no answer, split by what it means for a message: whether the
/// server can have received it.
public enum TransportError: Error, Sendable {
    /// Never reached the server (connection refused, connect timeout): safe to retry.
    case notSent(String)
    /// May have reached the server (connection closed or timed out after sending).
    case indeterminate(String)

    /// What the lost request means for its message.
    public var outcome: SendOutcome {
        switch self {
        case .notSent(let reason): return .unreached(reason: "not sent: \(reason)")
        case .indeterminate(let reason): return .indeterminate(reason: reason)
        }
    }
}

extension HTTPTransport {
    /// `POST url` with a JSON body and `headers` added to the JSON content headers.
    func postJSON(_ url: String, _ body: JSONObject, headers: [(String, String)]) async throws(TransportError) -> HTTPResponseData {
        try await send(HTTPRequestData(method: "POST", url: url,
                                       headers: [("Content-Type", "application/json"), ("Accept", "application/json")] + headers,
                                       body: Array(body.text.utf8)))
    }
}

/// The network seam: adapters talk HTTP through this, tests through loopback servers.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestData) async throws(TransportError) -> HTTPResponseData
    func shutdown() async
}
