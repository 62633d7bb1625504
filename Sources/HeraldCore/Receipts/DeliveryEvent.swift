import Foundation

/// What became of a sent message after the provider accepted it: a second dimension
/// beside its send state. `pending` is the only state a later event may change;
/// the others are final and never regress (`DeliveryState.merge`).
public enum DeliveryState: String, Sendable, CaseIterable, Codable {
    /// A non-final event arrived (queued, sent to the carrier).
    case pending
    case delivered
    /// Refused or lost at the carrier, with the provider's code and description.
    case undelivered
    /// The provider gave up at the message's time to live.
    case expired
    /// RCS was not delivered as RCS and the provider sent the SMS/MMS fallback.
    case fallback
    /// No final event within `receipt_timeout` (or the provider said UNKNOWN).
    case unknown

    public var isFinal: Bool { self != .pending }
}

/// Where an event came from (also the `receipt.provider` column): a provider's name, each
/// declared in its provider's folder (`ReceiptSource.aws`).
public struct ReceiptSource: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { rawValue = name }

    public var description: String { rawValue }
}

/// One provider event, parsed: the one shape every provider's receipts take before
/// they reach the journal.
public struct DeliveryEvent: Sendable, Equatable {
    /// How the event names its message.
    public enum Match: Sendable, Equatable {
        /// The provider's message id, stored at send time (`message.provider_ref`).
        case reference(String)
        /// Campaign id and CSV row, as herald put them in the request (AWS `Context`,
        /// the simulator's idempotency key).
        case row(campaign: String, row: Int, reference: String?)
        /// A journal row, known to whoever made the event (the simulator, in process).
        case journalRow(cid: Int64, row: Int)
        /// An event that names no message herald sent (an inbound reply).
        case none
    }

    public var source: ReceiptSource
    /// The provider's event type as sent (`TEXT_DELIVERED`, `DELIVERY`, `READ`...).
    public var type: String
    public var match: Match
    /// The state this event reports; nil for events that only add a read time.
    public var state: DeliveryState?
    /// The recipient opened the message (implies delivered).
    public var read: Bool
    /// The provider's status code and description, kept for undelivered messages.
    public var code: String?
    public var detail: String?
    /// When the provider says it happened, in milliseconds since 1970.
    public var at: Int64?
    /// What the provider charged, (AWS `totalMessagePrice` +
    /// `totalCarrierFee`), when it says.
    public var price: Money?
    /// The event as received, for the audit table.
    public var raw: String
    /// A reply from a recipient (Agile `INBOUND`, an AWS two-way message): who sent it
    /// and what it said, for stop and start keywords.
    public var reply: Reply?
    /// The provider says the number itself is invalid (AWS `*_INVALID`, v5
    /// `invalid_number`): with `suppress_undeliverable`, the number joins the list.
    public var invalidNumber = false
    /// The id of the signed message that carried the event (an SNS `MessageId`): the journal
    /// remembers it, so the same message replayed to any receiver, or after a restart, is
    /// taken once.
    public var envelope: String?
    /// The channel of the message the event is about, when the provider says (AWS: its event
    /// type's prefix). An event about an RCS attempt changes nothing for a row that fell
    /// back to SMS since.
    public var channel: Channel?

    public struct Reply: Sendable, Equatable {
        /// The recipient's number as the provider wrote it.
        public var from: String
        public var text: String

        public init(from: String, text: String) {
            self.from = from
            self.text = text
        }
    }

    public init(source: ReceiptSource, type: String, match: Match, state: DeliveryState?, read: Bool = false,
                code: String? = nil, detail: String? = nil, at: Int64? = nil, price: Money? = nil, raw: String,
                reply: Reply? = nil) {
        self.source = source
        self.type = type
        self.match = match
        self.state = state
        self.read = read
        self.code = code
        self.detail = detail
        self.at = at
        self.price = price
        self.raw = raw
        self.reply = reply
    }

    /// The provider's message id the event carries, if any.
    public var reference: String? {
        switch match {
        case .reference(let reference): reference
        case .row(_, _, let reference): reference
        case .journalRow, .none: nil
        }
    }

    /// The state a message takes when this event meets it in `current`: a final state
    /// never changes, a read proves delivery, a non-final event only fills a gap.
    public func merged(into current: DeliveryState?) -> DeliveryState? {
        if let current, current.isFinal { return current }
        if read { return .delivered }
        return state ?? current
    }
}

/// What a reply asks for: its first word against the stop and start keywords.
public struct ReplyKeywords: Sendable, Equatable {
    /// Opt out: the number joins the suppression list.
    public var stop: Set<String>
    /// Opt back in: the entries replies (and provider opt-outs) made are removed.
    public var start: Set<String>

    public static let defaultStop: Set<String> = [
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "REVOKE",
        "ARRET", "ARRÊT", "STOPP", "BAJA", "ALTO", "PARAR", "CANCELAR", "ANNULLA", "DISISCRIVI", "AFMELDEN", "ABMELDEN",
    ]
    public static let defaultStart: Set<String> = ["START", "UNSTOP", "YES", "SUBSCRIBE", "ALTA", "INIZIA", "DEMARRER"]

    public init(stop: Set<String> = Self.defaultStop, start: Set<String> = Self.defaultStart) {
        self.stop = Set(stop.map { $0.uppercased() })
        self.start = Set(start.map { $0.uppercased() })
    }

    public enum Intent: Equatable { case stop, start }

    /// The first word of `text`, upper-cased, without surrounding punctuation.
    public func intent(of text: String) -> Intent? {
        let word = text.split(whereSeparator: { $0.isWhitespace }).first.map {
            String($0).trimmingCharacters(in: .punctuationCharacters).uppercased()
        } ?? ""
        if stop.contains(word) { return .stop }
        if start.contains(word) { return .start }
        return nil
    }
}

/// A receipt body that cannot be read: answered 400, nothing recorded.
public struct ReceiptParseError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSONTree {
    /// The body of a receipt request: one event object, or an array of them.
    public static func events(in body: [UInt8]) throws(ReceiptParseError) -> [JSONTree] {
        guard let tree = parse(body) else { throw ReceiptParseError("the body is not valid JSON") }
        switch tree {
        case .object: return [tree]
        case .array(let elements):
            guard elements.allSatisfy({ if case .object = $0 { true } else { false } }) else {
                throw ReceiptParseError("the array holds something other than event objects")
            }
            return elements
        default: throw ReceiptParseError("the body is neither an event object nor an array of them")
        }
    }

    /// Event times herald accepts from a provider: 2000-01-01 to 2100-01-01 (milliseconds
    /// since 1970). Anything outside is refused where it is parsed, so no stored time can
    /// overflow the arithmetic of a report, a latency or a dashboard later.
    public static let eventTimes: ClosedRange<Int64> = 946_684_800_000...4_102_444_800_000

    /// The event time in the first of `keys` the object has: milliseconds since 1970 from
    /// a number of milliseconds or an ISO 8601 string. Nil when none is there (or a string
    /// is not a time: the receipt's arrival stands in); a number or time outside
    /// `eventTimes` is an error naming the member, and the event is refused.
    public func eventTime(_ keys: String...) throws(ReceiptParseError) -> Int64? {
        guard let key = keys.first(where: { self[$0] != nil }), let value = self[key] else { return nil }
        let milliseconds: Double
        switch value {
        case .number(let number): milliseconds = number
        case .string(let text):
            guard let seconds = ISO8601.parse(text) else { return nil }
            milliseconds = seconds * 1000
        default: return nil
        }
        let range = Self.eventTimes
        guard milliseconds.isFinite, milliseconds >= Double(range.lowerBound), milliseconds <= Double(range.upperBound) else {
            throw ReceiptParseError("\"\(key)\" is not a time between 2000 and 2100")
        }
        return Int64(milliseconds.rounded())
    }

    /// A member as text, whether the provider sent it as a string or a number.
    public func text(_ key: String) -> String? {
        switch self[key] {
        case .string(let text): return text
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        default: return nil
        }
    }

    /// The tree written back as compact JSON (for the audit copy of one event out of
    /// a batch).
    public var json: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let text): JSONEscape.appendQuoted(text, to: &out)
        case .number(let value): out += value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSONEscape.appendQuoted(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }
}

extension Money {
    /// Dollars as a provider's JSON number (`0.00581`), to the nano-dollar: nil unless
    /// a price, 0 to `largestPrice`.
    public init?(dollars: Double) {
        guard dollars.isFinite, dollars >= 0, dollars <= Double(Money.largestPrice.nanos / Money.scale) else { return nil }
        self.init(nanos: Int64((dollars * Double(Money.scale)).rounded()))
    }
}

extension JSONTree {
    /// The sum of the price members `keys` (AWS `totalMessagePrice` + `totalCarrierFee`)
    /// in dollars; nil when the first is absent. A member that is not a number from 0 to
    /// `Money.largestPrice`, or a sum past it, is an error naming them, and the event is refused.
    public func price(_ keys: String...) throws(ReceiptParseError) -> Money? {
        guard let first = keys.first, self[first] != nil else { return nil }
        var total = Money.zero
        for key in keys {
            guard let member = self[key] else { continue }
            guard case .number(let dollars) = member, let price = Money(dollars: dollars) else {
                throw ReceiptParseError("\"\(key)\" is not a price from 0 to \(Money.largestPrice) USD")
            }
            total += price
        }
        guard total.isPrice else {
            throw ReceiptParseError("\(keys.map { "\"\($0)\"" }.joined(separator: " + ")) is more than \(Money.largestPrice) USD")
        }
        return total
    }
}

/// How a provider's receipts prove that an RCS message it took was not delivered and will not
/// be, so its row may go as SMS through another provider (`sms_fallback:`): the events' source
/// and the final event types that say so. Declared by a provider that does not fall back to
/// SMS itself (AWS, sending directly through an RCS agent ARN).
public struct RCSFailureProof: Sendable, Equatable {
    public let source: ReceiptSource
    public let types: [String]

    public init(source: ReceiptSource, types: [String]) {
        self.source = source
        self.types = types
    }
}
