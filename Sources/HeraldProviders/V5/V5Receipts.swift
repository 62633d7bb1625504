import HeraldCore

/// Callbacks from the `/v5/messages` API. The reference documents `callbackURL` but
/// not the body posted to it, so herald assumes (README, "v5 receipts"): JSON, one
/// object or an array, with `messageGUID` (or `messageId`) and a `status` string;
/// optional `errorCode`/`code`, `description`/`reason`, and a time in `timestamp`,
/// `eventDate` or `date`. Herald also puts `herald_campaign` and `herald_row` in the
/// query of every `callbackURL` it sends, so an event for a row whose send answer was
/// lost (no GUID stored) still finds its row.
public enum V5Receipts {
    public static func events(body: [UInt8], campaign: String?, row: Int?) throws(ReceiptParseError) -> [DeliveryEvent] {
        let trees = try JSONTree.events(in: body)
        let whole = trees.count == 1 ? String(decoding: body, as: UTF8.self) : nil
        var events: [DeliveryEvent] = []
        for tree in trees {
            guard let status = tree.text("status") else { throw ReceiptParseError("an event has no \"status\"") }
            let guid = tree.text("messageGUID") ?? tree.text("messageId")
            let match: DeliveryEvent.Match
            if let campaign, let row, trees.count == 1 {
                match = .row(campaign: campaign, row: row, reference: guid)
            } else if let guid, !guid.isEmpty {
                match = .reference(guid)
            } else {
                throw ReceiptParseError("an event has neither \"messageGUID\" nor \"messageId\"")
            }
            var event = DeliveryEvent(
                source: .v5, type: status, match: match, state: nil,
                code: tree.text("errorCode") ?? tree.text("code"),
                detail: tree["description"]?.string ?? tree["reason"]?.string,
                at: try tree.eventTime("timestamp", "eventDate", "date"),
                raw: whole ?? tree.json)
            let mapped = state(status: status)
            if mapped == nil { event.read = true } else { event.state = mapped }
            event.invalidNumber = ["invalid_number", "invalid_destination"].contains(status.lowercased())
            events.append(event)
        }
        return events
    }

    /// `status` (any case) to delivery state; nil means read. Unknown statuses are kept
    /// raw as not final.
    public static func state(status: String) -> DeliveryState? {
        statuses[status.lowercased()] ?? .pending
    }

    /// The statuses herald knows, and the state each means (nil: read).
    static let statuses: [String: DeliveryState?] = {
        var table: [String: DeliveryState?] = [:]
        for status in ["delivered", "delivered_to_handset"] { table[status] = .delivered }
        for status in ["read", "seen", "displayed"] { table[status] = .some(nil) }
        for status in ["undelivered", "undeliverable", "failed", "rejected", "error", "blocked", "invalid_number", "invalid_destination"] {
            table[status] = .undelivered
        }
        for status in ["expired", "ttl_expired"] { table[status] = .expired }
        for status in ["fallback", "failover", "sms_failover", "mms_failover", "fallen_back_to_sms"] { table[status] = .fallback }
        for status in ["unknown", "pending", "queued", "sent", "accepted", "sending"] {
            table[status] = status == "unknown" ? .unknown : .pending
        }
        return table
    }()

    /// A status as a metric label: one herald knows (lower case), else `other`, so a sender of
    /// made-up statuses cannot grow `/metrics` without bound.
    public static func metricLabel(_ status: String) -> String {
        let lowered = status.lowercased()
        return statuses.index(forKey: lowered) == nil ? "other" : lowered
    }
}
