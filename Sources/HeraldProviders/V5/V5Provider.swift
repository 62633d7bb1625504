import Foundation
import HeraldCore

/// The `/v5/messages` RCS API: RCS_TEXT, RCS_MEDIA, RCS_CARD and RCS_CAROUSEL with
/// `choices`, Basic auth. It takes no idempotency key, so a request left without an
/// answer leaves its row in doubt.
public final class V5Provider: MessageProvider {
    public let name = ProviderKind.v5.name
    public let capabilities = ProviderKind.v5.capabilities
    private let configuration: V5Configuration
    private let credentials: HTTPCredentials
    private let transport: any HTTPTransport
    private let url: String

    /// Credentials: `V5_USERNAME` and `V5_PASSWORD`.
    public init(configuration: V5Configuration, environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport) throws(ProviderSetupError) {
        guard let user = HTTPCredentials.variable("V5_USERNAME", in: environment),
            let password = HTTPCredentials.variable("V5_PASSWORD", in: environment)
        else {
            throw ProviderSetupError("no /v5/messages credentials: set V5_USERNAME and V5_PASSWORD")
        }
        credentials = .basic(user: user, password: password)
        self.configuration = configuration
        self.transport = transport
        url = configuration.endpoint + "/v5/messages"
    }

    public func send(_ message: OutboundMessage) async -> SendOutcome {
        guard case .rcs(let content) = message.content else {
            return .permanent(reason: "invalid_content: stored RCS content is not readable")
        }
        do {
            return Self.outcome(of: try await transport.postJSON(url, request(message, content), headers: [credentials.header]))
        } catch {
            return error.outcome
        }
    }

    /// The request body, fields as the API documents them.
    func request(_ message: OutboundMessage, _ content: RCSContent) -> JSONObject {
        var object = JSONObject()
        let extra = content.suggestions ?? []
        if let text = content.text {
            object.set("messageType", "RCS_TEXT")
            head(&object, message)
            object.set("messageText", text)
            object["choices"] = Self.choices(extra)
        } else if let media = content.media {
            object.set("messageType", "RCS_MEDIA")
            head(&object, message)
            object.set("mediaUrl", media.url)
            object.set("thumbnailUrl", media.thumbnailURL)
            object.set("filenameOverride", media.filename)
            object["choices"] = Self.choices(extra)
        } else if let card = content.card {
            object.set("messageType", "RCS_CARD")
            head(&object, message)
            Self.card(card, extra: extra, into: &object)
        } else if let carousel = content.carousel {
            object.set("messageType", "RCS_CAROUSEL")
            head(&object, message)
            object["cards"] = .array(carousel.cards.map { card in
                var object = JSONObject()
                Self.card(card, extra: [], into: &object)
                return .object(object)
            })
        }
        object.set("callbackURL", configuration.callbackURL.map { CallbackURL.naming($0, message) })
        if let text = content.fallbackSMS, let sender = configuration.fallbackSender {
            var failover = JSONObject()
            failover["enabled"] = .bool(true)
            failover.set("failoverSource", sender)
            failover.set("fallbackText", text)
            object["smsFailover"] = .object(failover)
        } else if let mms = content.fallbackMMS, let sender = configuration.fallbackSender {
            var failover = JSONObject()
            failover["enabled"] = .bool(true)
            failover.set("failoverSource", sender)
            failover.set("fallbackText", mms.body)
            failover.set("mediaUrl", mms.mediaURL)
            failover.set("subject", mms.subject)
            object["mmsFailover"] = .object(failover)
        }
        return object
    }

    private func head(_ object: inout JSONObject, _ message: OutboundMessage) {
        object.set("source", configuration.source)
        // Numbers as the API's examples write them: country code and number, no "+".
        object.set("destination", String(message.destination.e164.dropFirst()))
    }

    private static func card(_ card: RCSCard, extra: [RCSSuggestion], into object: inout JSONObject) {
        object.set("title", card.title)
        object.set("description", card.description)
        object.set("height", card.media?.height ?? "MEDIUM")
        object.set("mediaUrl", card.media?.url)
        object.set("thumbnailUrl", card.media?.thumbnailURL)
        object.set("filenameOverride", card.media?.filename)
        object["choices"] = choices((card.suggestions ?? []) + extra)
    }

    private static func choices(_ list: [RCSSuggestion]) -> JSONValue? {
        guard !list.isEmpty else { return nil }
        return .array(list.map { suggestion in
            var object = JSONObject()
            let type: String
            switch suggestion.type {
            case .reply: type = "REPLY"
            case .openURL: type = "OPEN_URL"
            case .dial: type = "DIAL_PHONE"
            case .showLocation: type = "SHOW_LOCATION"
            case .requestLocation: type = "REQUEST_LOCATION"
            case .calendar: type = "CREATE_CALENDAR_EVENT"
            }
            object.set("type", type)
            object.set("title", suggestion.text)
            object.set("postbackData", suggestion.postbackData)
            switch suggestion.type {
            case .reply, .requestLocation: break
            case .openURL:
                object.set("url", suggestion.url)
                object.set("application", suggestion.application ?? "BROWSER")
                object.set("webviewViewMode", suggestion.webviewMode ?? "FULL")
            case .dial:
                object.set("phoneNumber", suggestion.phone.map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 })
            case .showLocation:
                object["latitude"] = suggestion.latitude.flatMap { Double($0) }.map(JSONValue.number)
                object["longitude"] = suggestion.longitude.flatMap { Double($0) }.map(JSONValue.number)
                object.set("label", suggestion.label)
            case .calendar:
                object.set("startTime", suggestion.start)
                object.set("endTime", suggestion.end)
                object.set("eventTitle", suggestion.title)
                object.set("description", suggestion.description)
            }
            return .object(object)
        })
    }

    /// 200 with `status: success` is accepted (`messageGUID`); 400 refuses the row,
    /// naming each field the API rejected; 401, 403 and 404 refuse the campaign;
    /// 429 throttles; 5xx is transient.
    static func outcome(of response: HTTPResponseData) -> SendOutcome {
        let object = response.jsonObject
        let message = object["message"] as? String
        switch response.status {
        case 200..<300:
            let results = (object["data"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
            let status = (results.first?["status"] as? String) ?? (object["status"] as? String)
            guard status == "success" else {
                return .permanent(reason: "not queued: \(message ?? status ?? "no status")")
            }
            return .accepted(providerRef: results.first?["messageGUID"] as? String ?? "")
        case 400, 422:
            let fields = (object["data"] as? [[String: Any]] ?? []).map { error -> String in
                let field = error["field"] as? String ?? "?"
                return "\(field): \(error["message"] as? String ?? error["description"] as? String ?? "invalid")"
            }
            let detail = fields.isEmpty ? (message ?? response.excerpt) : fields.joined(separator: "; ")
            return .permanent(reason: "HTTP \(response.status): \(detail)")
        case 429:
            return .throttled(retryAfter: response.retryAfter)
        case 401, 403, 404:
            return .campaignRefused(reason: "HTTP \(response.status): \(message ?? response.excerpt)")
        case 500...:
            return .transient(reason: "HTTP \(response.status): \(message ?? response.excerpt)")
        default:
            return .permanent(reason: "HTTP \(response.status): \(message ?? response.excerpt)")
        }
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}
