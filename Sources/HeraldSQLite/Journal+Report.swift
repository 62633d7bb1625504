import HeraldCore
import HeraldJournal

/// Aggregates for `herald report`: one pass over the campaign's rows (plus its
/// delivery rows), whatever the row count; the result is small.
public struct ReportAggregates: Sendable {
    public struct Country: Sendable {
        public var region: String
        public var sent = 0
        public var delivered = 0
        /// Herald's price of the sent messages (nano-dollars), and of every row to send.
        public var spent: Int64 = 0
        public var estimated: Int64 = 0
        /// What the provider reported for them, where it did.
        public var reported: Int64?
    }

    /// Messages sent and delivered per time bucket (start in ms since 1970).
    public var sends: [Int64: Int] = [:]
    public var deliveries: [Int64: Int] = [:]
    public var bucketMilliseconds: Int64 = 60_000
    public var countries: [Country] = []
    /// A few CSV lines for each reason (skipped, failed, waiting), in file order.
    public var examples: [String: [Int]] = [:]
    public var firstSend: Int64?
    public var lastSend: Int64?
    /// Herald's price of every message it meant to send (its estimate), nano-dollars.
    public var estimated: Int64 = 0
}

/// One recipient line of `herald report --csv`.
public struct RecipientLine {
    public var row: Int
    public var destination: UInt64?
    public var region: String?
    public var state: MessageState
    public var reason: String?
    public var detail: String?
    public var parts: Int
    public var cost: Int64
    public var updatedAt: Int64
    public var delivery: String?
    public var deliveredAt: Int64?
    public var readAt: Int64?
    public var providerRef: String?
}

extension Journal {
    public func reportAggregates(cid: Int64, examplesPerReason: Int = 5) throws(JournalError) -> ReportAggregates {
        try read {
            var report = ReportAggregates()
            // Send times first, to choose per-minute or per-hour buckets.
            let span = try db.statement(
                "SELECT min(updated_at), max(updated_at) FROM message WHERE cid = ?1 AND state = \(MessageState.sent.sql)")
            span.bind(1, cid)
            if try span.step(), !span.isNull(0) {
                report.firstSend = span.int64(0)
                report.lastSend = span.int64(1)
            }
            span.reset()
            if let first = report.firstSend, let last = report.lastSend, last - first > 6 * 3_600_000 {
                report.bucketMilliseconds = 3_600_000
            }
            let bucket = report.bucketMilliseconds
            var countries: [String: ReportAggregates.Country] = [:]
            let rows = try db.statement(
                """
                SELECT m.state, m.region, m.cost, m.updated_at, m.reason, m.row, d.state, d.event_at, d.price
                FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
                WHERE m.cid = ?1
                """)
            rows.bind(1, cid)
            let sent = MessageState.sent.rawValue, skipped = MessageState.skipped.rawValue
            while try rows.step() {
                let state = rows.int(0)
                let region = rows.string(1) ?? "?"
                let cost = rows.int64(2)
                if state != skipped {
                    report.estimated += cost
                    countries[region, default: .init(region: region)].estimated += cost
                }
                if state == sent {
                    let at = rows.int64(3)
                    report.sends[at / bucket * bucket, default: 0] += 1
                    var country = countries[region, default: .init(region: region)]
                    country.sent += 1
                    country.spent += cost
                    if let delivery = rows.string(6), delivery == DeliveryState.delivered.rawValue || delivery == DeliveryState.fallback.rawValue {
                        country.delivered += 1
                        if !rows.isNull(7) { report.deliveries[rows.int64(7) / bucket * bucket, default: 0] += 1 }
                    }
                    if !rows.isNull(8) { country.reported = (country.reported ?? 0) + rows.int64(8) }
                    countries[region] = country
                } else if let reason = rows.string(4), report.examples[reason, default: []].count < examplesPerReason {
                    report.examples[reason, default: []].append(rows.int(5))
                }
            }
            rows.reset()
            report.countries = countries.values.sorted { $0.sent == $1.sent ? $0.region < $1.region : $0.sent > $1.sent }
            return report
        }
    }

    /// Every row of a campaign in file order, handed to `line` one at a time (constant memory).
    public func forEachRecipient(cid: Int64, _ line: (RecipientLine) throws -> Void) throws(JournalError) {
        try read {
            let statement = try db.statement(
                """
                SELECT m.row, m.dest, m.region, m.state, m.reason, m.detail, m.parts, m.cost, m.updated_at,
                    d.state, d.event_at, d.read_at, m.provider_ref
                FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
                WHERE m.cid = ?1 ORDER BY m.row
                """)
            statement.bind(1, cid)
            defer { statement.reset() }
            while try statement.step() {
                let delivery = statement.string(9)
                let delivered = delivery == DeliveryState.delivered.rawValue || delivery == DeliveryState.fallback.rawValue
                try line(RecipientLine(
                    row: statement.int(0), destination: statement.isNull(1) ? nil : UInt64(bitPattern: statement.int64(1)),
                    region: statement.string(2), state: MessageState(rawValue: statement.int(3)) ?? .pending,
                    reason: statement.string(4), detail: statement.string(5), parts: statement.int(6), cost: statement.int64(7),
                    updatedAt: statement.int64(8), delivery: delivery,
                    deliveredAt: delivered && !statement.isNull(10) ? statement.int64(10) : nil,
                    readAt: statement.isNull(11) ? nil : statement.int64(11), providerRef: statement.string(12)))
            }
        }
    }

    /// When the campaign's runs started and ended (first start, last end).
    public func runSpan(cid: Int64) throws(JournalError) -> (start: Int64?, end: Int64?) {
        try read {
            let statement = try db.statement("SELECT min(started_at), max(ended_at) FROM run WHERE cid = ?1")
            statement.bind(1, cid)
            defer { statement.reset() }
            guard try statement.step() else { return (nil, nil) }
            return (statement.isNull(0) ? nil : statement.int64(0), statement.isNull(1) ? nil : statement.int64(1))
        }
    }
}
