import Foundation
import HeraldCore
import HeraldSettings

/// Twilio Programmable Messaging: SMS and MMS (public https media, up to 10), a sender number or
/// a Messaging Service, signed status callbacks. No idempotency key and no validate-only mode.
extension ProviderKind {
    public static let twilio = ProviderKind(
        name: "twilio", content: .twilio,
        capabilities: ProviderCapabilities(honoursIdempotencyKeys: false, validatesWithoutDelivering: false), receipts: .twilio,
        senderField: SenderField(key: "from", allowed: "A-Za-z0-9 +", max: 16),
        parse: { map, _ throws(InputError) in try TwilioConfiguration(settings: map) })
}

extension ContentTarget {
    /// Parts as Twilio bills them: whole grapheme clusters (its segment calculator).
    public static let twilio = ContentTarget(name: "twilio", channels: [.sms, .mms],
                                             mms: MMSRules(mediaSchemes: ["https://"], maxMedia: 10), smsPacking: .graphemes)
}

extension ReceiptRoute {
    public static let twilio = ReceiptRoute(name: "twilio", metricLabel: TwilioReceipts.metricLabel,
                                            handler: { setup in TwilioReceiptHandler(setup) })
}

extension ReceiptSource {
    public static let twilio = ReceiptSource(ProviderKind.twilio.name)
}

extension TwilioConfiguration: ProviderSettings {
    public static var kind: ProviderKind { .twilio }

    public var sender: String { from ?? messagingServiceSID ?? "" }

    public init(settings map: YAMLMap) throws(InputError) {
        try map.onlyKeys(["kind", "endpoint", "account_sid", "from", "messaging_service_sid", "status_callback", "validity_period"])
        self.init()
        endpoint = try map.httpURL("endpoint") ?? Self.defaultEndpoint
        accountSID = try map.setting("account_sid", allowed: "A-Za-z0-9", max: 34,
                                     shape: { Self.isSID($0, prefix: "AC") }, example: "AC and 32 hex digits")
        from = try map.setting("from", allowed: Self.kind.senderField?.allowed, max: 16)
        messagingServiceSID = try map.setting("messaging_service_sid", allowed: "A-Za-z0-9", max: 34,
                                              shape: { Self.isSID($0, prefix: "MG") }, example: "MG and 32 hex digits")
        guard (from == nil) != (messagingServiceSID == nil) else {
            throw InputError(file: map.file, line: map.line,
                             "\(map.path): set exactly one of from (a Twilio number, short code or sender id) and messaging_service_sid")
        }
        statusCallback = try map.httpURL("status_callback")
        validityPeriod = try map.int("validity_period", in: 1...36_000)
    }

    public func problem(sending channel: Channel, fallback: Bool) -> String? { nil }

    public func makeProvider(_ context: ProviderContext) throws -> any MessageProvider {
        var configuration = self
        configuration.maxPrice = context.maxPrice
        if configuration.statusCallback == nil { configuration.statusCallback = try context.receiptsURL(.twilio) }
        return try TwilioProvider(configuration: configuration, transport: context.transport)
    }
}
