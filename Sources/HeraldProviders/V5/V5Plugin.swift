import Foundation
import HeraldCore
import HeraldSettings

/// The `/v5/messages` RCS API: RCS only, cards with title, description and media, an SMS or
/// MMS failover, statuses posted to the campaign's callback URL. No idempotency key and no
/// validate-only mode.
extension ProviderKind {
    public static let v5 = ProviderKind(
        name: "v5", content: .v5,
        capabilities: ProviderCapabilities(honoursIdempotencyKeys: false, validatesWithoutDelivering: false), receipts: .v5,
        parse: { map, _ throws(InputError) in try V5Configuration(settings: map) })
}

extension ContentTarget {
    public static let v5: ContentTarget = {
        var rcs = RCSRules()
        rcs.suggestionsUnderCarousel = false
        rcs.suggestionsOnCard = [.card]
        rcs.providerTemplates = false
        rcs.fallbackSMSMax = 160
        rcs.mmsFallback = .init(bodyMax: 160, bodyRequired: true, mediaSchemes: ["https://", "http://"], subjectMax: 100)
        rcs.standaloneMediaNeedsThumbnailAndFilename = true
        rcs.cardNeedsEverything = true
        return ContentTarget(name: "v5", channels: [.rcs], rcs: rcs)
    }()
}

extension ReceiptRoute {
    /// Statuses name their message by GUID, or by the campaign and row Herald put in the callback URL.
    public static let v5 = ReceiptRoute(name: "v5", metricLabel: V5Receipts.metricLabel, handler: { _ in
        BodyReceiptHandler { request in
            try V5Receipts.events(body: request.body, campaign: request.query["herald_campaign"],
                                  row: request.query["herald_row"].flatMap { Int($0) })
        }
    })
}

extension V5Configuration: ProviderSettings {
    public static var kind: ProviderKind { .v5 }

    public var sender: String { source }

    public init(settings map: YAMLMap) throws(InputError) {
        try map.onlyKeys(["kind", "endpoint", "source", "fallback_sender", "callback_url"])
        self.init()
        guard let endpoint = try map.httpURL("endpoint") else { throw map.missing("endpoint", "the /v5/messages API's base URL") }
        self.endpoint = endpoint
        guard let source = try map.setting("source", allowed: nil, max: 64) else { throw map.missing("source", "the RCS sender") }
        self.source = source
        fallbackSender = try map.setting("fallback_sender", allowed: nil, max: 64)
        if let sender = fallbackSender, sender.count > 50 { throw map.error("fallback_sender", "at most 50 characters") }
        callbackURL = try map.httpURL("callback_url")
    }

    public func problem(sending channel: Channel, fallback: Bool) -> String? {
        fallback && fallbackSender == nil
            ? "the template has a fallback: set fallback_sender (the failoverSource of smsFailover / mmsFailover)" : nil
    }

    public func makeProvider(_ context: ProviderContext) throws -> any MessageProvider {
        var configuration = self
        if configuration.callbackURL == nil { configuration.callbackURL = try context.receiptsURL(.v5) }
        return try V5Provider(configuration: configuration, transport: context.transport)
    }
}

extension ReceiptSource {
    public static let v5 = ReceiptSource(ProviderKind.v5.name)
}
