import Foundation
import Crypto
import HeraldCore

/// Agile Telecom RCS: `POST /api/message-server/rcs/send`. Every request carries a
/// `messageId` derived from campaign and row, which Agile treats as an idempotency
/// key, so a request left without an answer is sent again safely.
public final class AgileProvider: MessageProvider {
    public let name = ProviderKind.agile.name
    public let capabilities = ProviderKind.agile.capabilities
    private let configuration: AgileConfiguration
    private let credentials: HTTPCredentials
    private let transport: any HTTPTransport
    private let url: String
    /// `scheduledDate` as Agile writes it, formatted once.
    private let scheduledDate: String?

    /// Credentials: `AGILE_API_KEY` (sent as `X-Api-Key`), else `AGILE_USERNAME`
    /// and `AGILE_PASSWORD` (Basic).
    public init(configuration: AgileConfiguration,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport) throws(ProviderSetupError) {
        if let key = HTTPCredentials.variable("AGILE_API_KEY", in: environment) {
            credentials = .apiKey(header: "X-Api-Key", key: key)
        } else if let user = HTTPCredentials.variable("AGILE_USERNAME", in: environment),
            let password = HTTPCredentials.variable("AGILE_PASSWORD", in: environment)
        {
            credentials = .basic(user: user, password: password)
        } else {
            throw ProviderSetupError("no Agile Telecom credentials: set AGILE_API_KEY, or AGILE_USERNAME and AGILE_PASSWORD")
        }
        self.configuration = configuration
        self.transport = transport
        url = configuration.endpoint + "/api/message-server/rcs/send"
        scheduledDate = configuration.scheduledDate.map(Self.scheduledDate)
    }

    public func send(_ message: OutboundMessage) async -> SendOutcome {
        guard case .rcs(let content) = message.content else {
            return .permanent(reason: "invalid_content: stored RCS content is not readable")
        }
        do {
            let response = try await transport.postJSON(url, request(message, content), headers: [credentials.header])
            return Self.outcome(of: response, messageID: Self.messageID(for: message.idempotencyKey))
        } catch {
            return error.outcome
        }
    }

    /// The request body, fields as Agile documents them.
    func request(_ message: OutboundMessage, _ content: RCSContent) -> JSONObject {
        var object = JSONObject()
        object.set("destination", message.destination.e164)
        object["agentId"] = .integer(configuration.agentID)
        if let template = content.templateID {
            object["templateId"] = Int(template).map(JSONValue.integer) ?? .string(template)
            var placeholders = JSONObject()
            for name in (content.placeholders ?? [:]).keys.sorted() { placeholders.set(name, content.placeholders?[name]) }
            object["placeholders"] = .object(placeholders)
        } else {
            object["body"] = .object(Self.body(content))
        }
        object.set("campaignId", String(message.campaign.prefix(255)))
        object.set("messageId", Self.messageID(for: message.idempotencyKey))
        if message.dryRun { object["simulation"] = .bool(true) }
        if let notify = configuration.enableNotification { object["enableNotification"] = .bool(notify) }
        if let parts = configuration.maxSMSParts { object["maxSmsParts"] = .integer(parts) }
        object.set("scheduledDate", scheduledDate)
        if let whatsapp = configuration.fallbackWhatsApp {
            var fallback = JSONObject()
            fallback["phoneNumberId"] = .integer(whatsapp.phoneNumberID)
            fallback["templateId"] = .integer(whatsapp.templateID)
            object["fallbackWhatsApp"] = .object(fallback)
        }
        if let text = content.fallbackSMS, let sender = configuration.fallbackSender {
            var fallback = JSONObject()
            fallback.set("sender", sender)
            fallback.set("text", text)
            object["fallbackSms"] = .object(fallback)
        }
        return object
    }

    /// TEXT, CARD (also for a media message: a card with only its media) or CAROUSEL.
    static func body(_ content: RCSContent) -> JSONObject {
        var body = JSONObject()
        if let text = content.text {
            body.set("type", "TEXT")
            body.set("text", text)
            body["suggestions"] = suggestions(content.suggestions)
        } else if let media = content.media {
            body.set("type", "CARD")
            body.set("mediaUrl", media.url)
            body["suggestions"] = suggestions(content.suggestions)
        } else if let card = content.card {
            body = self.card(card, type: "CARD")
            if let extra = content.suggestions, !extra.isEmpty {
                body["suggestions"] = suggestions((card.suggestions ?? []) + extra)
            }
        } else if let carousel = content.carousel {
            body.set("type", "CAROUSEL")
            body["cards"] = .array(carousel.cards.map { .object(self.card($0, type: nil)) })
        }
        return body
    }

    private static func card(_ card: RCSCard, type: String?) -> JSONObject {
        var object = JSONObject()
        object.set("type", type)
        object.set("title", card.title)
        object.set("description", card.description)
        object.set("mediaUrl", card.media?.url)
        object.set("mediaHeight", card.media?.height)
        object["suggestions"] = suggestions(card.suggestions)
        return object
    }

    /// Agile's suggestion types; request_location is refused before sending (ContentRules).
    private static let suggestionTypes: [RCSSuggestion.Kind: String] = [
        .reply: "reply", .openURL: "url", .dial: "dial", .showLocation: "locationCoordinates", .calendar: "calendar",
    ]

    private static func suggestions(_ list: [RCSSuggestion]?) -> JSONValue? {
        guard let list, !list.isEmpty else { return nil }
        return .array(list.map { suggestion in
            var object = JSONObject()
            object.set("type", suggestionTypes[suggestion.type] ?? "reply")
            object.set("text", suggestion.text)
            switch suggestion.type {
            case .reply, .requestLocation:
                object.set("postbackData", suggestion.postbackData)
            case .openURL:
                object.set("url", suggestion.url)
            case .dial:
                object.set("phoneNumber", suggestion.phone)
            case .showLocation:
                object.set("latitude", suggestion.latitude)
                object.set("longitude", suggestion.longitude)
                object.set("label", suggestion.label)
            case .calendar:
                object.set("title", suggestion.title)
                object.set("description", suggestion.description)
                object.set("startTime", suggestion.start)
                object.set("endTime", suggestion.end)
            }
            return .object(object)
        })
    }

    /// A UUID (version 8, RFC 9562) from SHA-256 of the idempotency key: the same
    /// for every attempt of one message, different for every row and campaign.
    public static func messageID(for key: String) -> String {
        var bytes = Array(SHA256.hash(data: Array("herald/\(key)".utf8))).prefix(16).map { $0 }
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = SigV4.hex(bytes)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
                     hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// `yyyy-MM-dd HH:mm:ss.SSSZ` in UTC, as Agile takes it.
    static func scheduledDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSZ"
        return formatter.string(from: date)
    }

    /// 200 with `results.rcs.accepted` (or an accepted SMS fallback) is accepted;
    /// 400 and 422 refuse the row; 401, 403 and 404 (agent or template unknown)
    /// refuse the campaign; 429 throttles; 5xx is transient. The reference kept is the
    /// `messageId` herald sent: Agile's callbacks name the message by it.
    static func outcome(of response: HTTPResponseData, messageID: String) -> SendOutcome {
        let object = response.jsonObject
        switch response.status {
        case 200..<300:
            let results = object["results"] as? [String: Any] ?? [:]
            let rcs = results["rcs"] as? [String: Any]
            let sms = results["sms"] as? [String: Any]
            if rcs?["accepted"] as? Bool == true || sms?["accepted"] as? Bool == true { return .accepted(providerRef: messageID) }
            guard let rcs else { return .indeterminate(reason: "HTTP \(response.status) without results.rcs") }
            let reasons = (rcs["reasons"] as? [Any] ?? []).map { "\($0)" }
            return .permanent(reason: "not accepted: " + (reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")))
        case 429:
            return .throttled(retryAfter: response.retryAfter)
        case 401, 403, 404:
            return .campaignRefused(reason: "HTTP \(response.status): \(detail(object, response))")
        case 500...:
            return .transient(reason: "HTTP \(response.status): \(detail(object, response))")
        default:
            return .permanent(reason: "HTTP \(response.status): \(detail(object, response))")
        }
    }

    private static func detail(_ object: [String: Any], _ response: HTTPResponseData) -> String {
        for key in ["message", "error", "detail", "title"] {
            if let text = object[key] as? String, !text.isEmpty { return text }
        }
        return response.body.isEmpty ? "no details" : response.excerpt
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}
