import Foundation
import HeraldCore
import Logging

/// A receipt route a receiver serves, `POST /receipts/NAME/TOKEN`: one per kind of callback,
/// declared by its provider (`ProviderKind.receipts`), with the handler that reads its
/// requests and what the metrics may say of its event types.
public struct ReceiptRoute: Sendable, Hashable, CustomStringConvertible {
    /// The path segment, and the `provider` label of `herald_receipts_total`.
    public let name: String
    private let labels: @Sendable (String) -> String
    private let handler: @Sendable (ReceiptHandlerSetup) throws -> any ReceiptHandler

    /// `metricLabel`: an event type as a label, one the parser knows, else `other`.
    public init(name: String, metricLabel: @escaping @Sendable (String) -> String,
                handler: @escaping @Sendable (ReceiptHandlerSetup) throws -> any ReceiptHandler) {
        self.name = name
        self.labels = metricLabel
        self.handler = handler
    }

    /// An event type as a metric label: one this route's parser knows, else `other`, so a
    /// sender of made-up types cannot grow `/metrics` without bound.
    public func metricLabel(_ type: String) -> String { labels(type) }

    /// The handler a receiver runs for this route.
    public func makeHandler(_ setup: ReceiptHandlerSetup) throws -> any ReceiptHandler { try handler(setup) }

    public var description: String { name }
    public static func == (lhs: ReceiptRoute, rhs: ReceiptRoute) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// One callback request as a route's handler sees it (the route's token already checked).
public struct ReceiptRequest: Sendable {
    public let body: [UInt8]
    /// The query's parameters, the first value of each.
    public let query: [String: String]
    /// The headers, by lower-cased name (the first of each).
    public let headers: [String: String]
    /// The path and query as requested (`/receipts/NAME/TOKEN?key=value`), for signatures
    /// over the URL the provider was given.
    public let target: String

    public init(body: [UInt8], query: [String: String], headers: [String: String], target: String) {
        self.body = body
        self.query = query
        self.headers = headers
        self.target = target
    }
}

/// What a handler makes of a request.
public enum ReceiptReading: Sendable {
    /// Events to record; `recorded` runs once they are committed.
    case events([DeliveryEvent], recorded: (@Sendable () -> Void)?)
    /// Answered with 200 and this text; nothing to record (a subscription confirmed, a replay).
    case answered(String)
}

/// Reads one route's requests. Throws `ReceiptParseError` for a body it cannot read (400)
/// and `ReceiptRefusal` for one it must not believe (403); either way nothing is recorded.
public protocol ReceiptHandler: Sendable {
    func read(_ request: ReceiptRequest) async throws -> ReceiptReading
}

/// A request whose origin could not be proved (a bad signature, an unknown topic).
public struct ReceiptRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a receiver gives the handlers it makes.
public struct ReceiptHandlerSetup: Sendable {
    /// SNS topics whose subscriptions are confirmed and whose messages are taken.
    public var snsTopics: Set<String>
    /// Extra CAs an SNS signing certificate may chain to.
    public var snsTrustedCAs: [String]
    public var transport: any HTTPTransport
    public var environment: [String: String]
    public var logger: Logger
    /// The base of the callback URLs Herald gives providers (`herald receipts url --base`),
    /// when set: what a provider signs a callback URL with.
    public var publicBase: @Sendable () -> String?

    public init(snsTopics: Set<String>, snsTrustedCAs: [String], transport: any HTTPTransport,
                environment: [String: String], logger: Logger, publicBase: @escaping @Sendable () -> String? = { nil }) {
        self.snsTopics = snsTopics
        self.snsTrustedCAs = snsTrustedCAs
        self.transport = transport
        self.environment = environment
        self.logger = logger
        self.publicBase = publicBase
    }
}

/// A route whose body alone holds its events (no signature to check).
public struct BodyReceiptHandler: ReceiptHandler {
    let events: @Sendable (ReceiptRequest) throws -> [DeliveryEvent]

    public init(_ events: @escaping @Sendable (ReceiptRequest) throws -> [DeliveryEvent]) { self.events = events }

    public func read(_ request: ReceiptRequest) async throws -> ReceiptReading {
        .events(try events(request), recorded: nil)
    }
}

/// Comparisons of secrets that take as long whatever the first difference, so timing tells nothing.
public enum ConstantTime {
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<y.count { difference |= (index < x.count ? x[index] : 0) ^ y[index] }
        return difference == 0
    }
}
