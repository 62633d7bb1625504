import HeraldCore

/// Agile Telecom's callbacks (`enableNotification`): `DELIVERY` with `statusCode` 3
/// (delivered) or 6 (undeliverable), `READ`, and `INBOUND` replies. Events name the
/// `messageId` herald derived at send time (`AgileProvider.messageID`), which the
/// journal stores as the row's provider reference when the row is claimed.
public enum AgileReceipts {
    /// Parses one callback body: an event object or an array of them.
    public static func events(body: [UInt8]) throws(ReceiptParseError) -> [DeliveryEvent] {
        let trees = try JSONTree.events(in: body)
        let whole = trees.count == 1 ? String(decoding: body, as: UTF8.self) : nil
        var events: [DeliveryEvent] = []
        events.reserveCapacity(trees.count)
        for tree in trees { events.append(try event(tree, raw: whole ?? tree.json)) }
        return events
    }

    /// An event type as a metric label: one herald knows, else `other` (`/metrics` stays bounded
    /// whatever a sender of callbacks makes up).
    public static func metricLabel(_ type: String) -> String {
        ["DELIVERY", "READ", "INBOUND"].contains(type) ? type : "other"
    }

    static func event(_ tree: JSONTree, raw: String) throws(ReceiptParseError) -> DeliveryEvent {
        guard let type = tree["eventType"]?.string else { throw ReceiptParseError("an event has no \"eventType\"") }
        let kind = type.uppercased()
        let at = try tree.eventTime("eventDate", "receivedDate")
        if kind == "INBOUND" {
            // `source` is the recipient who replied; a click on a suggestion has no text.
            let reply = tree["source"]?.string.map { DeliveryEvent.Reply(from: $0, text: tree["text"]?.string ?? "") }
            return DeliveryEvent(source: .agile, type: kind, match: .none, state: nil, at: at, raw: raw, reply: reply)
        }
        guard let id = tree.text("messageId"), !id.isEmpty else {
            throw ReceiptParseError("a \(kind) event has no \"messageId\"")
        }
        var event = DeliveryEvent(source: .agile, type: kind, match: .reference(id), state: nil, at: at, raw: raw)
        switch kind {
        case "READ":
            event.read = true
        case "DELIVERY":
            let code = tree.text("statusCode")
            event.code = code
            event.detail = tree["description"]?.string
            event.state = state(statusCode: code, channel: tree["channel"]?.string)
        default:
            // Unknown event types are kept (audit) and change nothing.
            event.state = .pending
        }
        return event
    }

    /// `statusCode` to delivery state. Agile documents 3 and 6; other codes are kept
    /// raw and treated as not final. A delivery reported on the `SMS` channel for an
    /// RCS message means the SMS fallback went out (assumption: Agile reports the
    /// fallback's delivery with `channel: "SMS"`).
    public static func state(statusCode: String?, channel: String?) -> DeliveryState {
        switch statusCode {
        case "3": channel?.uppercased() == "SMS" ? .fallback : .delivered
        case "6": .undelivered
        default: .pending
        }
    }
}
