import HeraldCore

/// RCS to SMS through another provider. A provider that never falls back to SMS itself (an AWS
/// *direct send*, an RCS agent ARN as the sender) says in a final receipt that the RCS message was
/// not delivered and will not be (`RCSFailureProof`: AWS `RCS_FAILED`, `RCS_TTL_EXPIRED`). Such a row, still `sent` on its RCS route,
/// becomes `retry` due now on the SMS route its provider's `sms_fallback:` names, with that
/// route's parts and price (quoted by the sender, which holds the price books): attempts and
/// provider reference cleared, its delivery row gone (so the SMS's receipts count afresh), and
/// the switch recorded. The RCS attempt's cost stays spent; the SMS reserves when it is claimed,
/// inside the campaign's limits. Both stores apply it guarded (the row is still sent on that
/// route, its delivery still failed), so two senders move a row once.
public enum RCSFallbackRule {
    /// The delivery states such a row's delivery row is left in.
    public static let failedStates: [DeliveryState] = [.undelivered, .expired]

    /// What the route switch records.
    public static func switchReason(_ signal: String) -> String { "\(switchPrefix): \(signal)" }

    /// Whether an event is about an RCS attempt: once its row fell back to SMS, such an event
    /// (a late or repeated one) is kept in the audit and changes nothing, so it can neither
    /// settle the SMS's row nor end its delivery.
    public static func isRCSEvent(_ event: DeliveryEvent) -> Bool { event.channel == .rcs }

    /// Whether `event` changes nothing for `target`: an event about an RCS attempt, for a row
    /// that fell back to SMS after it.
    public static func ignores(_ event: DeliveryEvent, for target: ReceiptTarget) -> Bool {
        target.fellBack && isRCSEvent(event)
    }

    /// Whether `candidate` (named by a proving event) may move from route `from`: still sent
    /// there, its delivery failed for good.
    public static func mayMove(_ candidate: FallbackCandidate, from: Int) -> Bool {
        candidate.state == .sent && candidate.route == from && candidate.delivery.map(failedStates.contains) == true
    }

    /// A route-switch reason this rule recorded.
    public static let switchPrefix = "rcs_failed"


    /// The detail the moved row keeps.
    public static func detail(_ signal: String, from: String, to: String) -> String {
        "\(signal): the RCS message through \(from.quoted) was not delivered; sending its fallback_sms through \(to.quoted)"
    }
}

/// A row an RCS fallback may move, with what the move changes: read by the store, locked, in
/// the transaction that moves it (`mayMove` decides).
public struct FallbackCandidate: Sendable, Equatable {
    public var row: Int
    public var route: Int
    public var state: MessageState
    /// The rendered RCS content (its `fallback_sms` is what the SMS sends).
    public var body: String?
    public var region: String?
    /// The proving event's type.
    public var signal: String
    public var cost: Int64
    /// When it was sent (`updated_at`).
    public var sentAt: Int64
    public var delivery: DeliveryState?
    public var code: String?
    public var price: Int64?
    public var eventAt: Int64?
    public var read: Bool

    public init(row: Int, route: Int, state: MessageState, body: String?, region: String?, signal: String, cost: Int64, sentAt: Int64,
                delivery: DeliveryState?, code: String?, price: Int64?, eventAt: Int64?, read: Bool) {
        self.row = row
        self.route = route
        self.state = state
        self.body = body
        self.region = region
        self.signal = signal
        self.cost = cost
        self.sentAt = sentAt
        self.delivery = delivery
        self.code = code
        self.price = price
        self.eventAt = eventAt
        self.read = read
    }
}

extension FallbackCandidate {
    /// What both stores select for `init(row:signal:)`, from `message AS m` and its delivery
    /// `d` (a left join); each store adds its own condition.
    public static let selectSQL = """
        SELECT m.row AS row, m.route AS route, m.state AS state, m.body AS body, m.region AS region, m.cost AS cost,
            m.updated_at AS updated_at, d.state AS delivery_state, d.code AS code, d.price AS price, d.event_at AS event_at,
            CASE WHEN d.read_at IS NULL THEN 0 ELSE 1 END AS read_flag
        FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
        """

    /// Decodes a row a proving event (`signal`) named, by column name. Nil for a state this
    /// herald does not know or a row number out of range (never moved); a route out of range
    /// reads as the first (`RouteIndex`), which no move leaves from unless it is the RCS route.
    public init?(row: some RecordRow, signal: String) throws {
        guard let state = try row.int64("state").flatMap({ Int(exactly: $0) }).flatMap(MessageState.init(rawValue:)),
              let number = try row.int64("row").flatMap({ Int(exactly: $0) }) else { return nil }
        self.init(row: number, route: RouteIndex.checked(try row.int64("route") ?? 0), state: state, body: try row.string("body"),
                  region: try row.string("region"), signal: signal, cost: try row.int64("cost") ?? 0,
                  sentAt: try row.int64("updated_at") ?? 0,
                  delivery: try row.string("delivery_state").flatMap(DeliveryState.init(rawValue:)), code: try row.string("code"),
                  price: try row.int64("price"), eventAt: try row.int64("event_at"), read: try row.int64("read_flag") == 1)
    }
}

/// One row's move to its SMS route, as the sender quoted it.
public struct FallbackMove: Sendable, Equatable {
    public let row: Int
    public let from: Int
    public let to: Int
    /// SMS parts as the SMS route counts them, and its price of them (nano-dollars).
    public let parts: Int
    public let cost: Int64
    /// The proving event's type.
    public let signal: String
    /// The row's detail after the move.
    public let detail: String

    public init(row: Int, from: Int, to: Int, parts: Int, cost: Int64, signal: String, detail: String) {
        self.row = row
        self.from = from
        self.to = to
        self.parts = parts
        self.cost = cost
        self.signal = signal
        self.detail = detail
    }

    public var routeMove: RouteMove {
        RouteMove(from: from, to: to, parts: parts, cost: cost, reason: RCSFallbackRule.switchReason(signal))
    }
}

extension ReceiptChanges {
    /// The counters a fallback moves in campaign `cid`: the row leaves `sent` for `retry`
    /// (`rcs_fallback`) at its new cost, and its delivery (state, code, read, reported price)
    /// is taken back from the delivery and report counters, as the recount of rows finds it
    /// once its delivery row is gone. The ledger moves nothing: the RCS attempt stays spent.
    public mutating func fellBack(_ candidate: FallbackCandidate, _ move: FallbackMove, cid: Int64, at time: Int64) {
        tally[cid, default: TallyChanges()].move(from: TallyKey(.sent), to: TallyKey(.retry, .rcsFallback))
        var report = ReportCounters()
        report.apply(ReportMove(region: candidate.region, cost: candidate.cost, from: .sent, at: candidate.sentAt, to: .retry, at: time,
                                costAfter: move.cost))
        if let state = candidate.delivery {
            delivery.add(cid, state, candidate.code, -1)
            let price = DeliveryTallyChanges.checkedPrice(candidate.price)
            if candidate.read { delivery.add(cid, "read", nil, -1) }
            if let price, price != 0 { delivery.add(cid, "price", nil, -Int(clamping: price)) }
            report.addDelivery(state, at: candidate.eventAt, price: price, region: candidate.region, sign: -1)
        }
        self.report[cid, default: ReportCounters()].merge(report)
    }
}
