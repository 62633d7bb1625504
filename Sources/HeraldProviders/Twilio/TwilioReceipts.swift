import Crypto
import Foundation
import HeraldCore

/// Twilio's status callbacks: a form-encoded POST with `MessageSid`, `MessageStatus` and, for
/// failures, `ErrorCode`, signed in `X-Twilio-Signature` (HMAC-SHA1, keyed by the account's
/// auth token, over the callback URL followed by every POST parameter, sorted by name, each
/// as name then value). Herald puts `herald_campaign` and `herald_row` in the query of every
/// `StatusCallback` it sends, so an event for a row whose send answer was lost still finds it.
public enum TwilioReceipts {
    public static func events(body: [UInt8], campaign: String?, row: Int?) throws(ReceiptParseError) -> [DeliveryEvent] {
        guard let fields = FormEncoding.decode(body) else { throw ReceiptParseError("the body is not form-encoded UTF-8") }
        func field(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
        guard let status = field("MessageStatus"), !status.isEmpty, status.utf8.count <= 64 else {
            throw ReceiptParseError("no MessageStatus")
        }
        let sid = field("MessageSid").flatMap { TwilioConfiguration.isSID($0, prefix: nil) ? $0 : nil }
        let match: DeliveryEvent.Match
        if let campaign, let row {
            match = .row(campaign: campaign, row: row, reference: sid)
        } else if let sid {
            match = .reference(sid)
        } else {
            throw ReceiptParseError("no MessageSid (two letters and 32 hex digits)")
        }
        let code = field("ErrorCode").flatMap { $0.isEmpty || $0.utf8.count > 16 ? nil : $0 }
        var event = DeliveryEvent(source: .twilio, type: status, match: match, state: nil, code: code,
                                  detail: field("ErrorMessage").map { String($0.prefix(300)) }, raw: String(decoding: body, as: UTF8.self))
        switch state(status: status) {
        case .some(let state): event.state = state
        case .none: event.read = true
        }
        event.invalidNumber = code.map(invalidNumberCodes.contains) ?? false
        return [event]
    }

    /// Error codes of a callback saying the number itself cannot receive messages: 30005
    /// (unknown destination handset), 30006 (landline or unreachable carrier).
    static let invalidNumberCodes: Set<String> = ["30005", "30006"]

    /// `MessageStatus` to a delivery state; nil means read. Unknown statuses are kept as not final.
    public static func state(status: String) -> DeliveryState? {
        statuses[status] ?? .pending
    }

    /// The statuses of Twilio's Message resource, and the state each means (nil: read).
    static let statuses: [String: DeliveryState?] = {
        var table: [String: DeliveryState?] = [:]
        table["read"] = .some(nil)
        table["delivered"] = .some(.delivered)
        for status in ["undelivered", "failed", "canceled"] { table[status] = .some(.undelivered) }
        for status in ["queued", "accepted", "scheduled", "sending", "sent", "partially_delivered"] { table[status] = .some(.pending) }
        return table
    }()

    /// A status as a metric label: one Twilio documents, else `other`.
    public static func metricLabel(_ status: String) -> String {
        statuses.index(forKey: status) == nil ? "other" : status
    }

    /// `X-Twilio-Signature` for a POST to `url` with `fields`, keyed by `authToken`.
    public static func signature(url: String, fields: [(String, String)], authToken: String) -> String {
        var data = Array(url.utf8)
        // Sorted by name, byte by byte; values of one name keep their order.
        for (name, value) in fields.enumerated().sorted(by: { lhs, rhs in
            lhs.element.0 == rhs.element.0 ? lhs.offset < rhs.offset : Array(lhs.element.0.utf8).lexicographicallyPrecedes(Array(rhs.element.0.utf8))
        }).map(\.element) {
            data += Array(name.utf8)
            data += Array(value.utf8)
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: data, using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(code).base64EncodedString()
    }
}

/// Status callbacks, each believed only with a signature Twilio made: checked against the
/// URL Herald gave Twilio (the journal's base URL and the path and query requested) and, for
/// a callback URL set by hand, the URL as this receiver was called (its Host, http or https).
struct TwilioReceiptHandler: ReceiptHandler {
    let authToken: String?
    let publicBase: @Sendable () -> String?

    init(_ setup: ReceiptHandlerSetup) {
        authToken = setup.environment["TWILIO_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        publicBase = setup.publicBase
    }

    func read(_ request: ReceiptRequest) async throws -> ReceiptReading {
        guard let authToken else { throw ReceiptRefusal("Twilio: set TWILIO_AUTH_TOKEN to check the signature of its callbacks") }
        guard let signature = request.headers["x-twilio-signature"] else { throw ReceiptRefusal("Twilio: no X-Twilio-Signature") }
        guard let fields = FormEncoding.decode(request.body) else { throw ReceiptParseError("the body is not form-encoded UTF-8") }
        var urls: [String] = []
        if let base = publicBase() { urls.append(base + request.target) }
        if let host = request.headers["host"], host.utf8.count <= 255 {
            urls += ["https://\(host)\(request.target)", "http://\(host)\(request.target)"]
        }
        guard urls.contains(where: { url in
            ConstantTime.equal(TwilioReceipts.signature(url: url, fields: fields, authToken: authToken), signature)
        }) else {
            throw ReceiptRefusal("Twilio: X-Twilio-Signature does not match")
        }
        let events = try TwilioReceipts.events(body: request.body, campaign: request.query["herald_campaign"],
                                               row: request.query["herald_row"].flatMap { Int($0) })
        return .events(events, recorded: nil)
    }
}
