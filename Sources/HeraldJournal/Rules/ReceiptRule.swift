import Foundation
import HeraldCore

/// Where a message stands when a receipt event meets it: the facts the receipt rule
/// reads (a store fetches them, locked, in the transaction that applies the changes).
public struct ReceiptTarget: Sendable, Equatable {
    public var cid: Int64
    public var row: Int
    public var state: MessageState
    public var reason: String?
    public var cost: Int64
    public var spendMonth: Int?
    /// When the row was last attempted (its `updated_at`): the send time a delivery is measured from.
    public var attemptAt: Int64
    public var doubt: String?
    /// Whether an earlier attempt's cost was counted as spent when the row was made due
    /// again (`resend-in-doubt` where the provider does not dedupe).
    public var earlierSpent: Bool
    public var region: String?
    /// What the receipts said so far (nil before the first event).
    public var delivery: DeliveryFacts?
    /// The row fell back from RCS to SMS (`RCSFallbackRule`): events about the RCS attempt
    /// change nothing. Read only for such events.
    public var fellBack = false

    public init(cid: Int64, row: Int, state: MessageState, reason: String?, cost: Int64, spendMonth: Int?, attemptAt: Int64,
                doubt: String?, earlierSpent: Bool = false, region: String?, delivery: DeliveryFacts?) {
        self.cid = cid
        self.row = row
        self.state = state
        self.reason = reason
        self.cost = cost
        self.spendMonth = spendMonth
        self.attemptAt = attemptAt
        self.doubt = doubt
        self.earlierSpent = earlierSpent
        self.region = region
        self.delivery = delivery
    }
}

extension ReceiptTarget {
    /// Whether a receipt can be about this row: it may have left Herald. A row still
    /// `pending` was never claimed (a row is marked `sending`, committed, before its request
    /// leaves), and one skipped for any reason but a cancellation never went out: an event
    /// naming either is bogus (a mistyped row, a forged callback) and counts as unmatched,
    /// so delivered never exceeds what was sent.
    public var mayHaveBeenSent: Bool {
        switch state {
        case .pending: false
        case .skipped: reason == Reason.cancelled.rawValue && doubt != nil
        default: true
        }
    }
}

/// A message's delivery row as the receipts left it.
public struct DeliveryFacts: Sendable, Equatable {
    public var state: DeliveryState?
    public var read: Bool
    public var sentAt: Int64?
    public var code: String?
    /// What the provider reported it charged (nano-dollars).
    public var price: Int64?
    /// When its delivery state last changed.
    public var eventAt: Int64?

    public init(state: DeliveryState?, read: Bool, sentAt: Int64?, code: String?, price: Int64?, eventAt: Int64?) {
        self.state = state
        self.read = read
        self.sentAt = sentAt
        self.code = code
        self.price = price
        self.eventAt = eventAt
    }
}

/// What one event writes to its message's delivery row (inserted if there is none): the
/// state; code, detail, event time, read time and price where not nil (nil keeps what
/// the row has); the sent time and the read time only fill a gap.
public struct DeliveryWrite: Sendable, Equatable {
    public var cid: Int64
    public var row: Int
    public var state: DeliveryState
    public var code: String?
    public var detail: String?
    public var sentAt: Int64
    public var eventAt: Int64?
    public var readAt: Int64?
    public var price: Int64?

    /// This write followed by `next` to the same row, as one write.
    public func then(_ next: DeliveryWrite) -> DeliveryWrite {
        DeliveryWrite(cid: cid, row: row, state: next.state, code: next.code ?? code, detail: next.detail ?? detail,
                      sentAt: sentAt, eventAt: next.eventAt ?? eventAt, readAt: readAt ?? next.readAt, price: next.price ?? price)
    }
}

/// The secret in receipt callback URLs: 24 random bytes, in hex.
public enum ReceiptToken {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// What receipts do to the journal, as values: one event moves its message's delivery
/// state (final states never change), and proves an in-doubt or waiting row was
/// accepted; a reply may add a number to the suppression list or take it off. The
/// counter moves of a batch are summed here and written once, before it commits.
public struct ReceiptChanges: Sendable {
    public var delivery = DeliveryTallyChanges()
    public var tally: [Int64: TallyChanges] = [:]
    public var report: [Int64: ReportCounters] = [:]
    public var ledger: [Int64: LedgerDeltas] = [:]
    /// Events that named no message, and replies, by provider.
    public var unmatched: [String: Int] = [:]
    public var replies: [String: Int] = [:]

    public init() {}

    /// The detail a row settled by a receipt keeps.
    public static let settledDetail = "accepted: a delivery receipt arrived for it"

    /// What `event` does to `target`'s delivery: the row to write (nil when nothing
    /// changes), with the counters it moves recorded, and whether it proves the number
    /// invalid (for `suppress_undeliverable`). `target.delivery` is updated to what was
    /// written, so the next event for the same row in the batch sees it.
    public mutating func deliver(_ event: DeliveryEvent, to target: inout ReceiptTarget, time: Int64)
        -> (write: DeliveryWrite?, provesInvalid: Bool)
    {
        let existing = target.delivery
        let old = existing?.state
        let new = event.merged(into: old)
        let at = event.at ?? time
        let sentAt = existing?.sentAt ?? target.attemptAt
        let newlyRead = event.read && !(existing?.read ?? false)
        let changesState = new != old
        let newPrice = event.price?.nanos
        var write: DeliveryWrite?
        if changesState || newlyRead || newPrice != nil || existing == nil {
            write = DeliveryWrite(
                cid: target.cid, row: target.row, state: new ?? .pending, code: changesState ? event.code : nil,
                detail: changesState ? event.detail : nil, sentAt: sentAt, eventAt: changesState ? at : nil,
                readAt: event.read ? at : nil, price: newPrice)
            target.delivery = DeliveryFacts(
                state: new ?? .pending, read: (existing?.read ?? false) || event.read, sentAt: sentAt,
                code: changesState ? (event.code ?? existing?.code) : existing?.code, price: newPrice ?? existing?.price,
                eventAt: changesState ? at : existing?.eventAt)
        }
        if changesState || existing == nil {
            if let old { delivery.add(target.cid, old, nil, -1) }
            // Counted under the code the row keeps (this event's, else an earlier one's).
            delivery.add(target.cid, new ?? .pending, event.code ?? existing?.code)
            if new == .delivered || new == .fallback {
                let bucket = DeliverySummary.latencyBucket(milliseconds: max(0, at.subtractingReportingOverflow(sentAt).partialValue))
                delivery.latency[.init(cid: target.cid, bucket: bucket), default: 0] += 1
            }
        }
        if newlyRead { delivery.add(target.cid, "read", nil) }
        if changesState || (newPrice != nil && newPrice != existing?.price) {
            // The report's counters: what the delivery adds now minus what it added before.
            var moved = ReportCounters()
            moved.addDelivery(old, at: existing?.eventAt, price: existing?.price, region: target.region, sign: -1)
            moved.addDelivery(new, at: changesState ? at : existing?.eventAt, price: newPrice ?? existing?.price, region: target.region)
            report[target.cid, default: ReportCounters()].merge(moved)
        }
        // The provider-reported cost, summed in a counter (`status` never sums the rows).
        if let price = newPrice, price != existing?.price ?? 0 {
            delivery.add(target.cid, "price", nil, Int(clamping: price.subtractingReportingOverflow(existing?.price ?? 0).partialValue))
        }
        return (write, changesState && new == .undelivered && event.invalidNumber)
    }

    /// The month an in-doubt or waiting row with an event settles in (it was accepted),
    /// or nil when the row is not one to settle. The store marks it `sent` only while
    /// it is still in that state, then calls `settled`.
    public static func settlementMonth(of target: ReceiptTarget, time: Int64) -> Int? {
        guard target.state == .inDoubt || target.state == .retry else { return nil }
        return target.spendMonth ?? BillingMonth.of(milliseconds: time)
    }

    /// Records what marking `target` `sent` in `month` moves: its counter, its report
    /// line (counted when it was sent), and the ledger: an in-doubt row's reservation
    /// becomes spend; a row whose earlier attempt was counted as spent when it was made
    /// due again moves nothing; any other row was released when it went back to wait
    /// (a failure, or a takeover or resend where the provider dedupes) and is spent now.
    public mutating func settled(_ target: inout ReceiptTarget, month: Int) {
        tally[target.cid, default: TallyChanges()].move(from: TallyKey(target.state, code: target.reason), to: TallyKey(.sent))
        report[target.cid, default: ReportCounters()].move(
            region: target.region, cost: target.cost, from: target.state, at: target.attemptAt, to: .sent, at: target.attemptAt)
        if target.cost != 0 {
            if target.state == .inDoubt, target.spendMonth != nil {
                ledger[target.cid, default: LedgerDeltas()].add(LedgerDelta(month: month, reserved: -target.cost, spent: target.cost))
            } else if !target.earlierSpent {
                ledger[target.cid, default: LedgerDeltas()].add(LedgerDelta(month: month, reserved: 0, spent: target.cost))
            }
        }
        target.state = .sent
        target.reason = nil
        target.spendMonth = month
    }

    /// A matched event that is not a reply: counted, for the totals a receiver reports.
    public mutating func unmatchedEvent(from source: ReceiptSource) { unmatched[source.rawValue, default: 0] += 1 }
    public mutating func reply(from source: ReceiptSource) { replies[source.rawValue, default: 0] += 1 }

    /// The unmatched and reply counters join the delivery counters (campaign 0).
    public mutating func finish() {
        for (provider, count) in unmatched { delivery.add(0, "unmatched", provider, count) }
        for (provider, count) in replies { delivery.add(0, "reply", provider, count) }
        unmatched = [:]
        replies = [:]
    }
}

/// What a recipient's reply does to the suppression list, by the reply's own time `at`
/// (when the provider says it was sent; else when it arrived): a stop keyword puts the
/// number on it for every sender, listed at `at`; a start keyword takes off what replies
/// and provider opt-outs put there at or before `at` (never what a person added). Replies
/// may arrive out of order (or be replayed): an older START never undoes a newer STOP.
public enum ReplyChange: Sendable, Equatable {
    case suppress(destination: Int64, reason: String, at: Int64)
    case release(destination: Int64, sources: [SuppressionSource], listedUpTo: Int64)

    public init?(_ reply: DeliveryEvent.Reply, at: Int64, keywords: ReplyKeywords) {
        guard let intent = keywords.intent(of: reply.text), let number = try? PhoneNumber.parse(Array(reply.from.utf8)) else { return nil }
        let destination = Int64(bitPattern: number.digits)
        switch intent {
        case .stop: self = .suppress(destination: destination, reason: "replied \(reply.text.prefix(40))", at: at)
        case .start: self = .release(destination: destination, sources: [.reply, .optedOut], listedUpTo: at)
        }
    }
}

/// Delivery counter changes of one transaction (like `TallyChanges` for send states).
public struct DeliveryTallyChanges: Sendable {
    public struct Key: Hashable, Sendable {
        public let cid: Int64
        public let state: String
        public let code: String

        public init(cid: Int64, state: String, code: String) {
            self.cid = cid
            self.state = state
            self.code = code
        }
    }

    public struct LatencyKey: Hashable, Sendable {
        public let cid: Int64
        public let bucket: Int
    }

    public var deltas: [Key: Int] = [:]
    public var latency: [LatencyKey: Int] = [:]

    public init() {}

    /// `state` is a delivery state, `read`, `price`, or `unmatched`/`reply` (cid 0, code = provider).
    public mutating func add(_ cid: Int64, _ state: String, _ code: String?, _ count: Int = 1) {
        guard count != 0 else { return }
        deltas[Key(cid: cid, state: state, code: code ?? ""), default: 0] += count
    }

    public mutating func add(_ cid: Int64, _ state: DeliveryState, _ code: String?, _ count: Int = 1) {
        // Codes are kept for undelivered messages only: the breakdown status shows.
        add(cid, state.rawValue, state == .undelivered ? code : nil, count)
    }

    /// In one order (campaign, state, code), so concurrent writers lock counter rows alike.
    public var sorted: [(key: Key, value: Int)] {
        deltas.filter { $0.value != 0 }.sorted { ($0.key.cid, $0.key.state, $0.key.code) < ($1.key.cid, $1.key.state, $1.key.code) }
    }

    public var sortedLatency: [(key: LatencyKey, value: Int)] {
        latency.filter { $0.value != 0 }.sorted { ($0.key.cid, $0.key.bucket) < ($1.key.cid, $1.key.bucket) }
    }
}

extension DeliveryTallyChanges {
    /// What the delivery counters of campaign `cid` (a bound parameter) count, recounted
    /// from its `delivery` rows: state (and code, for undelivered), reads, reported price.
    /// Columns: state, code, count. The same SQL on both stores.
    public static func fromRowsSQL(cid: String) -> String {
        """
        SELECT state, CASE WHEN state = '\(DeliveryState.undelivered.rawValue)' THEN coalesce(code, '') ELSE '' END, count(*)
        FROM delivery WHERE cid = \(cid) GROUP BY 1, 2
        UNION ALL SELECT 'read', '', count(*) FROM delivery WHERE cid = \(cid) AND read_at IS NOT NULL
        UNION ALL SELECT 'price', '', CAST(coalesce(sum(\(checkedPrice("price"))), 0) AS bigint) FROM delivery WHERE cid = \(cid)
        UNION ALL SELECT '\(priceOutOfRange)', '', count(*) FROM delivery
            WHERE cid = \(cid) AND price IS NOT NULL AND \(checkedPrice("price")) IS NULL
        """
    }

    /// Counted from the rows only: prices an older release stored without the range check
    /// (no counter keeps them, so `doctor` reports them until `--repair` clears them).
    public static let priceOutOfRange = "price out of range"

    /// SQL: the `column` price when it is one (0 to `Money.largestPrice`), else NULL, so no
    /// sum of stored prices can overflow whatever a journal holds. The same on both stores.
    public static func checkedPrice(_ column: String) -> String {
        "CASE WHEN \(column) BETWEEN 0 AND \(Money.largestPrice.nanos) THEN \(column) END"
    }

    /// SQL that clears the prices `checkedPrice` leaves out, for campaign `cid` (a bound
    /// parameter): `doctor --repair` runs it before the counters are rebuilt.
    public static func clearPricesOutOfRangeSQL(cid: String) -> String {
        "UPDATE delivery SET price = NULL WHERE cid = \(cid) AND price IS NOT NULL AND \(checkedPrice("price")) IS NULL"
    }

    /// A stored price as a reader may use it: nil unless a price.
    public static func checkedPrice(_ nanos: Int64?) -> Int64? {
        nanos.flatMap { Money(nanos: $0).isPrice ? $0 : nil }
    }

    /// Where the delivery counters disagree with the recount (zeros left out of both).
    public static func drift(counted: [Key: Int], fromRows: [Key: Int]) -> [CounterDrift] {
        Set(counted.keys).union(fromRows.keys).sorted { ($0.state, $0.code) < ($1.state, $1.code) }
            .filter { counted[$0] ?? 0 != fromRows[$0] ?? 0 }
            .map { key in
                CounterDrift(what: "delivery \(key.state)" + (key.code.isEmpty ? "" : " (\(key.code))"),
                             counted: Int64(counted[key] ?? 0), fromRows: Int64(fromRows[key] ?? 0))
            }
    }
}
