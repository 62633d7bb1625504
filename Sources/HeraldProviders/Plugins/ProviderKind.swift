import Foundation
import HeraldCore
import HeraldSettings

/// One provider as Herald knows it: its name and settings, what content it takes, what it
/// guarantees, how it is made and where its receipts arrive. Each provider declares its own
/// in its folder; `Providers.all` lists them, and everything else (the campaign file's
/// `kind:`, content checks, the factory, receipt routes, metrics) derives from that list.
public struct ProviderKind: Sendable, CustomStringConvertible {
    /// `kind:` in a campaign file, and the provider's name in messages and the journal.
    public let name: String
    /// What its messages may hold (channels, RCS limits).
    public let content: ContentTarget
    public let capabilities: ProviderCapabilities
    /// Where its delivery receipts arrive; nil when it sends none (or sends them in process).
    public let receipts: ReceiptRoute?
    /// The setting naming the identity it sends from, when a campaign may give it a pool of
    /// them (`senders:`) instead; nil: no pools.
    public let senderField: SenderField?
    /// Reads its settings from a campaign's `provider:` mapping (`kind` included), with
    /// errors naming the file, line and key; `folder` resolves relative paths.
    public let parse: @Sendable (_ map: YAMLMap, _ folder: URL) throws(InputError) -> any ProviderSettings

    public init(name: String, content: ContentTarget, capabilities: ProviderCapabilities, receipts: ReceiptRoute? = nil,
                senderField: SenderField? = nil,
                parse: @escaping @Sendable (_ map: YAMLMap, _ folder: URL) throws(InputError) -> any ProviderSettings) {
        self.senderField = senderField
        self.name = name
        self.content = content
        self.capabilities = capabilities
        self.receipts = receipts
        self.parse = parse
    }

    public var description: String { name }
}

/// The setting a provider's sender identity is given in (Twilio `from`, AWS
/// `origination_identity`), with the shape each identity of a pool must have.
public struct SenderField: Sendable {
    public let key: String
    /// A character-class body (`A-Za-z0-9 +`), as `YAMLMap.setting` takes it.
    public let allowed: String
    public let max: Int

    public init(key: String, allowed: String, max: Int) {
        self.key = key
        self.allowed = allowed
        self.max = max
    }
}

/// One provider's settings, as its `parse` read them from a campaign file.
public protocol ProviderSettings: Sendable {
    static var kind: ProviderKind { get }
    /// The sender a suppression may be scoped to; "" when the provider's default sender.
    var sender: String { get }
    /// A setting this provider needs to send `channel` (`fallback`: the template has an SMS or
    /// MMS fallback) and lacks; checked when the campaign loads.
    func problem(sending channel: Channel, fallback: Bool) -> String?
    /// The provider that sends with these settings.
    func makeProvider(_ context: ProviderContext) throws -> any MessageProvider
    func isEqual(to other: any ProviderSettings) -> Bool
    /// When these settings send RCS that the provider never falls back from itself, how its
    /// receipts prove a message was not delivered (`sms_fallback:` needs one); nil otherwise.
    var rcsFailureProof: RCSFailureProof? { get }
    /// These settings with the provider's own SMS fallback off: the campaign sends it through
    /// another provider (`sms_fallback:`).
    func fallingBackElsewhere() -> any ProviderSettings
}

extension ProviderSettings {
    public var kind: ProviderKind { Self.kind }
    public var rcsFailureProof: RCSFailureProof? { nil }
    public func fallingBackElsewhere() -> any ProviderSettings { self }
}

extension ProviderSettings where Self: Equatable {
    public func isEqual(to other: any ProviderSettings) -> Bool { (other as? Self) == self }
}

/// What a provider is made with, beside its settings.
public struct ProviderContext: Sendable {
    /// HTTP for providers that need it (made on the first request).
    public let transport: any HTTPTransport
    /// The campaign's MaxPrice per message, as a decimal text, for providers that enforce it.
    public let maxPrice: String?
    /// The journal's callback URL for a receipt route, once `herald receipts url --base` set a base.
    public let receiptsURL: @Sendable (ReceiptRoute) throws -> String?

    public init(transport: any HTTPTransport, maxPrice: String?, receiptsURL: @escaping @Sendable (ReceiptRoute) throws -> String?) {
        self.transport = transport
        self.maxPrice = maxPrice
        self.receiptsURL = receiptsURL
    }
}

/// The registry: every provider Herald can send through. Adding one is its folder and a
/// line here.
public enum Providers {
    public static let all: [ProviderKind] = [.simulator, .aws, .agile, .v5, .twilio]

    public static func named(_ name: String) -> ProviderKind? { all.first { $0.name == name } }

    /// Every receipt route, once each.
    public static var routes: [ReceiptRoute] { all.compactMap(\.receipts) }

    public static func route(named name: String) -> ReceiptRoute? { routes.first { $0.name == name } }

    /// Reads a campaign's `provider:` mapping: `kind` (the simulator when absent) picks the
    /// provider, which reads the rest.
    public static func parse(_ map: YAMLMap, folder: URL) throws(InputError) -> any ProviderSettings {
        let name = try map.string("kind") ?? ProviderKind.simulator.name
        guard let kind = named(name) else {
            throw map.error("kind", "\(name.quoted) is not a provider (\(all.map(\.name).joined(separator: ", ")))")
        }
        return try kind.parse(map, folder)
    }
}
