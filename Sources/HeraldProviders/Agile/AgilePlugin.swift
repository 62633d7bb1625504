import Foundation
import HeraldCore
import HeraldSettings

/// The Agile Telecom RCS API: RCS only (media goes as a card, which carries the message's
/// suggestions), an SMS or WhatsApp fallback, provider-side templates, DELIVERY/READ callbacks.
extension ProviderKind {
    public static let agile = ProviderKind(
        name: "agile", content: .agile, capabilities: ProviderCapabilities(honoursIdempotencyKeys: true), receipts: .agile,
        parse: { map, _ throws(InputError) in try AgileConfiguration(settings: map) })
}

extension ContentTarget {
    public static let agile: ContentTarget = {
        var rcs = RCSRules()
        rcs.suggestionsUnderCarousel = false
        rcs.suggestionsOnCard = [.card, .media]
        rcs.mmsFallback = nil
        rcs.requestLocation = false
        return ContentTarget(name: "agile", channels: [.rcs], rcs: rcs)
    }()
}

extension ReceiptRoute {
    public static let agile = ReceiptRoute(name: "agile", metricLabel: AgileReceipts.metricLabel,
                                           handler: { _ in BodyReceiptHandler { request in try AgileReceipts.events(body: request.body) } })
}

extension AgileConfiguration: ProviderSettings {
    public static var kind: ProviderKind { .agile }

    public var sender: String { String(agentID) }

    public init(settings map: YAMLMap) throws(InputError) {
        try map.onlyKeys(["kind", "endpoint", "agent_id", "fallback_sender", "fallback_whatsapp", "max_sms_parts",
                          "scheduled_date", "enable_notification"])
        self.init()
        endpoint = try map.httpURL("endpoint") ?? AgileConfiguration.defaultEndpoint
        guard let agent = try map.int("agent_id", in: 1...Int(Int32.max)) else {
            throw map.missing("agent_id", "the Agile RCS agent")
        }
        agentID = agent
        fallbackSender = try map.setting("fallback_sender", allowed: nil, max: 64)
        if let whatsapp = try map.map("fallback_whatsapp") {
            try whatsapp.onlyKeys(["phone_number_id", "template_id"])
            guard let phone = try whatsapp.int("phone_number_id", in: 1...Int.max),
                let template = try whatsapp.int("template_id", in: 1...Int.max)
            else {
                throw InputError(file: map.file, line: whatsapp.line, "\(whatsapp.path) needs phone_number_id and template_id")
            }
            guard fallbackSender != nil else {
                throw map.error("fallback_whatsapp", "Agile requires an SMS fallback with a WhatsApp one: set fallback_sender and the template's fallback_sms")
            }
            fallbackWhatsApp = .init(phoneNumberID: phone, templateID: template)
        }
        maxSMSParts = try map.int("max_sms_parts", in: 1...10)
        scheduledDate = try map.date("scheduled_date")
        enableNotification = try map.bool("enable_notification")
    }

    public func problem(sending channel: Channel, fallback: Bool) -> String? {
        fallback && fallbackSender == nil ? "the template has fallback_sms: set fallback_sender (the SMS sender Agile uses)" : nil
    }

    public func makeProvider(_ context: ProviderContext) throws -> any MessageProvider {
        try AgileProvider(configuration: self, transport: context.transport)
    }
}

extension ReceiptSource {
    public static let agile = ReceiptSource(ProviderKind.agile.name)
}
