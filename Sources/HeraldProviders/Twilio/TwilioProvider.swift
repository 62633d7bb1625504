import Foundation
import HeraldCore

/// Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
/// form-encoded, HTTP Basic. Twilio takes no idempotency key, so a request left without an
/// answer leaves its row in doubt (settled by its status callback, never sent again blind).
public final class TwilioProvider: MessageProvider {
    public let name = ProviderKind.twilio.name
    public let capabilities = ProviderKind.twilio.capabilities
    private let configuration: TwilioConfiguration
    private let credentials: HTTPCredentials
    private let transport: any HTTPTransport
    private let url: String

    public init(configuration: TwilioConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport) throws(ProviderSetupError) {
        guard let account = configuration.accountSID ?? HTTPCredentials.variable("TWILIO_ACCOUNT_SID", in: environment) else {
            throw ProviderSetupError("no Twilio account: set provider.account_sid or TWILIO_ACCOUNT_SID")
        }
        guard TwilioConfiguration.isSID(account, prefix: "AC") else {
            throw ProviderSetupError("TWILIO_ACCOUNT_SID is not an account SID (AC and 32 hex digits)")
        }
        if let key = HTTPCredentials.variable("TWILIO_API_KEY_SID", in: environment) {
            guard let secret = HTTPCredentials.variable("TWILIO_API_KEY_SECRET", in: environment) else {
                throw ProviderSetupError("TWILIO_API_KEY_SID is set without TWILIO_API_KEY_SECRET")
            }
            credentials = .basic(user: key, password: secret)
        } else if let token = HTTPCredentials.variable("TWILIO_AUTH_TOKEN", in: environment) {
            credentials = .basic(user: account, password: token)
        } else {
            throw ProviderSetupError("no Twilio credentials: set TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET, or TWILIO_AUTH_TOKEN")
        }
        self.configuration = configuration
        self.transport = transport
        url = "\(configuration.endpoint)/2010-04-01/Accounts/\(account)/Messages.json"
    }

    public func send(_ message: OutboundMessage) async -> SendOutcome {
        guard let fields = fields(message) else {
            return .permanent(reason: "invalid_content: stored \(message.channel.rawValue) content is not readable")
        }
        let request = HTTPRequestData(
            method: "POST", url: url,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"), credentials.header],
            body: FormEncoding.encode(fields))
        do {
            return Self.outcome(of: try await transport.send(request))
        } catch {
            return error.outcome
        }
    }

    /// The request's fields, named as Twilio's Message resource names them.
    func fields(_ message: OutboundMessage) -> [(String, String)]? {
        var fields: [(String, String)] = [("To", message.destination.e164)]
        // A pool's identity is the From number; a Messaging Service then only groups the sends.
        if let service = configuration.messagingServiceSID { fields.append(("MessagingServiceSid", service)) }
        if let from = message.sender ?? configuration.from { fields.append(("From", from)) }
        switch message.channel {
        case .sms:
            fields.append(("Body", message.body))
        case .mms:
            guard case .mms(let content) = message.content else { return nil }
            if let body = content.body { fields.append(("Body", body)) }
            fields += content.mediaURLs.map { ("MediaUrl", $0) }
        default:
            return nil
        }
        if let callback = configuration.statusCallback { fields.append(("StatusCallback", CallbackURL.naming(callback, message))) }
        if let period = configuration.validityPeriod { fields.append(("ValidityPeriod", String(period))) }
        if let price = configuration.maxPrice { fields.append(("MaxPrice", price)) }
        return fields
    }

    /// Codes that refuse every message of the campaign, not one recipient: credentials, the
    /// account, the sender.
    static let campaignCodes: Set<Int> = [20003, 20404, 21212, 21601]

    /// 2xx is accepted with the Message `sid`; the error's `code` decides the rest: 21610
    /// (the recipient unsubscribed) is an opt-out, 20429 and 21611 (the sender's queue is
    /// full) throttle, `campaignCodes` stop the campaign, other 4xx refuse the row; 5xx is
    /// transient.
    static func outcome(of response: HTTPResponseData) -> SendOutcome {
        let object = response.jsonObject
        let code = (object["code"] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
        let message = (object["message"] as? String).map { String($0.prefix(300)) } ?? response.excerpt
        let detail = "Twilio \(code.map(String.init) ?? "HTTP \(response.status)"): \(message)"
        switch response.status {
        case 200..<300:
            let sid = (object["sid"] as? String).flatMap { TwilioConfiguration.isSID($0, prefix: nil) ? $0 : nil }
            return .accepted(providerRef: sid ?? "")
        case 429:
            return .throttled(retryAfter: response.retryAfter)
        case 500...:
            return .transient(reason: detail)
        default:
            switch code {
            case 21610: return .optedOut(reason: detail)
            case 20429, 21611: return .throttled(retryAfter: response.retryAfter)
            case let code? where campaignCodes.contains(code): return .campaignRefused(reason: detail)
            default: return response.status == 401 ? .campaignRefused(reason: detail) : .permanent(reason: detail)
            }
        }
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}

extension TwilioConfiguration {
    /// A Twilio SID: two letters (`prefix` when given) and 32 hex digits.
    static func isSID(_ text: String, prefix: String?) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 34, bytes[0...1].allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }),
            bytes[2...].allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) })
        else { return false }
        return prefix.map { text.hasPrefix($0) } ?? true
    }
}
