import HeraldCore
import HeraldJournal
import PostgresNIO

/// The live report's counters on PostgreSQL: moved by the same rule as on SQLite
/// (`ReportCounters`), in the same transactions as the rows, written with the state
/// tallies at the end of a step (under the campaign row's lock, so senders never wait on
/// each other's counter rows in opposite orders).
extension ReportCounters {
    func write(cid: Int64, _ session: PostgresSession) throws {
        var upserts = CounterUpserts()
        add(cid: cid, to: &upserts)
        try upserts.run(session)
    }

    func add(cid: Int64, to upserts: inout CounterUpserts) {
        let minutes = self.minutes.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        if !minutes.isEmpty {
            upserts.add(
                """
                INSERT INTO report_minute (cid, minute, sent, delivered)
                SELECT $1, m, s, d FROM unnest($2::int8[], $3::int8[], $4::int8[]) AS v(m, s, d)
                ON CONFLICT (cid, minute) DO UPDATE
                    SET sent = report_minute.sent + excluded.sent, delivered = report_minute.delivered + excluded.delivered
                """) {
                    $0.append(cid); $0.append(minutes.map(\.key))
                    $0.append(minutes.map { Int64($0.value.sent) }); $0.append(minutes.map { Int64($0.value.delivered) })
                }
        }
        let countries = self.countries.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        guard !countries.isEmpty else { return }
        upserts.add(
            """
            INSERT INTO report_country (cid, region, sent, delivered, spent, estimated, reported, priced)
            SELECT $1, r, s, d, sp, e, rp, p
            FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[]) AS v(r, s, d, sp, e,
                rp, p)
            ON CONFLICT (cid, region) DO UPDATE SET sent = report_country.sent + excluded.sent,
                delivered = report_country.delivered + excluded.delivered, spent = report_country.spent + excluded.spent,
                estimated = report_country.estimated + excluded.estimated,
                    reported = report_country.reported + excluded.reported,
                priced = report_country.priced + excluded.priced
            """) {
                $0.append(cid); $0.append(countries.map(\.key))
                $0.append(countries.map { Int64($0.value.sent) }); $0.append(countries.map { Int64($0.value.delivered) })
                $0.append(countries.map(\.value.spent)); $0.append(countries.map(\.value.estimated))
                $0.append(countries.map(\.value.reported)); $0.append(countries.map { Int64($0.value.priced) })
            }
    }
}

extension PostgresJournal {
    /// The campaign's report counters as kept.
    static func reportCounters(cid: Int64, _ session: PostgresSession) throws -> ReportCounters {
        var counters = ReportCounters()
        for row in try session.query("SELECT minute, sent, delivered FROM report_minute WHERE cid = \(cid)") {
            let c = row.cells
            counters.add(minute: try c.int64(0), .init(sent: try c.int(1), delivered: try c.int(2)))
        }
        for row in try session.query(
            "SELECT region, sent, delivered, spent, estimated, reported, priced FROM report_country WHERE cid = \(cid)")
        {
            let c = row.cells
            counters.add(region: try c.string(0) ?? ReportCounters.unknownRegion,
                         .init(sent: try c.int(1), delivered: try c.int(2), spent: try c.int64(3), estimated: try c.int64(4),
                               reported: try c.int64(5), priced: try c.int(6)))
        }
        return counters
    }

    /// The same folded from the rows with the rule, from facts grouped by state, region
    /// and minute (a full pass over the campaign: for `doctor`, repairs and the migration).
    static func reportCountersFromRows(cid: Int64, _ session: PostgresSession) throws -> ReportCounters {
        var counters = ReportCounters()
        for row in try session.query(
            """
            SELECT state, region, count(*)::int8, coalesce(sum(cost), 0)::int8,
                CASE WHEN state = \(MessageState.sent) THEN floor(updated_at::numeric / 60000)::int8 ELSE 0 END
            FROM message WHERE cid = \(cid) GROUP BY 1, 2, 5
            """)
        {
            let c = row.cells
            guard let state = MessageState(rawValue: try c.int(0)) else { continue }
            counters.add(state, region: try c.string(1), cost: try c.int64(3), at: try c.int64(4) &* ReportCounters.minuteMilliseconds,
                         rows: try c.int(2))
        }
        for row in try session.query(
            """
            SELECT d.state, m.region, count(*)::int8, floor(d.event_at::numeric / 60000)::int8,
                coalesce(sum(\(sql: DeliveryTallyChanges.checkedPrice("d.price"))), 0)::int8,
                count(\(sql: DeliveryTallyChanges.checkedPrice("d.price")))::int8
            FROM delivery d JOIN message m ON m.cid = d.cid AND m.row = d.row WHERE d.cid = \(cid) GROUP BY 1, 2, 4
            """)
        {
            let c = row.cells
            counters.addDeliveries(try c.string(0).flatMap(DeliveryState.init(rawValue:)),
                                   at: try c.optionalInt64(3).map { $0 &* ReportCounters.minuteMilliseconds },
                                   region: try c.string(1), rows: try c.int(2), reported: try c.int64(4), priced: try c.int(5))
        }
        return counters
    }

    /// Replaces the campaign's report counters with the rows' (in the caller's transaction).
    static func rebuildReportCounters(cid: Int64, _ session: PostgresSession) throws {
        try session.query("DELETE FROM report_minute WHERE cid = \(cid)")
        try session.query("DELETE FROM report_country WHERE cid = \(cid)")
        try reportCountersFromRows(cid: cid, session).write(cid: cid, session)
    }

    /// The first `limit` lines (file order) of unsent rows with each reason: index seeks.
    static func exampleRows(cid: Int64, reasons: [String], limit: Int, _ session: PostgresSession) throws -> [String: [Int]] {
        var examples: [String: [Int]] = [:]
        for reason in reasons {
            let rows = try session.query(
                """
                SELECT row FROM message WHERE cid = \(cid) AND reason = \(reason) AND state != \(MessageState.sent)
                    ORDER BY row LIMIT \(limit)
                """).map { try $0.cells.int(0) }
            if !rows.isEmpty { examples[reason] = rows }
        }
        return examples
    }
}

/// `herald report` on PostgreSQL: the same values as on SQLite, from the same counters.
extension PostgresJournal: ReportingJournal {
    public func deliverySummary(cid: Int64) throws(JournalError) -> DeliverySummary {
        try attempt {
            var summary = DeliverySummary()
            for row in try session.query("SELECT state, code, n FROM delivery_tally WHERE cid = \(cid) AND n != 0") {
                let c = row.cells
                summary.addCounter(name: try c.string(0) ?? "", code: try c.string(1) ?? "", count: try c.int(2))
            }
            for row in try session.query("SELECT bucket, n FROM delivery_latency WHERE cid = \(cid) AND n != 0 ORDER BY bucket") {
                summary.addLatency(bucket: try row.cells.int(0), count: try row.cells.int(1))
            }
            return summary
        }
    }

    public func reportAggregates(cid: Int64, examplesPerReason: Int = 5) throws(JournalError) -> ReportAggregates {
        try attempt {
            try session.transaction {
                try session.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                let reasons = try session.query(
                    """
                    SELECT DISTINCT reason
                    FROM tally
                    WHERE cid = \(cid) AND reason != '' AND n != 0
                    """).compactMap { try $0.cells.string(0) }
                return ReportAggregates(counters: try Self.reportCounters(cid: cid, session),
                                        examples: try Self.exampleRows(cid: cid, reasons: reasons, limit: examplesPerReason, session))
            }
        }
    }

    public func runSpan(cid: Int64) throws(JournalError) -> (start: Int64?, end: Int64?) {
        try attempt {
            let row = try session.query("SELECT min(started_at), max(ended_at) FROM run WHERE cid = \(cid)").first
            return (try row?.cells.optionalInt64(0), try row?.cells.optionalInt64(1))
        }
    }

    /// Rows in file order, fetched in pages of 20,000 by key (constant memory).
    public func forEachRecipient(cid: Int64, _ line: (RecipientLine) throws -> Void) throws {
        var after = Int32.min
        while true {
            let page = try attempt {
                try session.query(
                    """
                    SELECT m.row, m.dest, m.region, m.state, m.reason, m.detail, m.parts, m.cost, m.updated_at,
                        d.state, d.event_at, d.read_at, m.provider_ref, m.route::int8, m.language
                    FROM message m LEFT JOIN delivery d ON d.cid = m.cid AND d.row = m.row
                    WHERE m.cid = \(cid) AND m.row > \(after) ORDER BY m.row LIMIT 20000
                    """).map { row -> RecipientLine in
                    let c = row.cells
                    let delivery = try c.string(9)
                    let delivered = delivery == DeliveryState.delivered.rawValue || delivery == DeliveryState.fallback.rawValue
                    var recipient = RecipientLine(
                        row: try c.int(0), destination: try c.optionalInt64(1).map { UInt64(bitPattern: $0) }, region: try c.string(2),
                        state: MessageState(rawValue: try c.int(3)) ?? .pending, reason: try c.string(4), detail: try c.string(5),
                        parts: try c.int(6), cost: try c.int64(7), updatedAt: try c.int64(8), delivery: delivery,
                        deliveredAt: delivered ? try c.optionalInt64(10) : nil, readAt: try c.optionalInt64(11),
                        providerRef: try c.string(12))
                    recipient.route = RouteIndex.checked(try c.int64(13))
                    recipient.language = try c.string(14)
                    return recipient
                }
            }
            guard let last = page.last else { return }
            for recipient in page { try line(recipient) }
            after = Int32(clamping: last.row)
        }
    }
}
