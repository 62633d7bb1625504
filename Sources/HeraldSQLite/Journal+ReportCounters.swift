import HeraldCore
import HeraldJournal

extension Journal {
    /// Writes a transaction's report counter changes, before it commits.
    func apply(_ report: ReportCounters, cid: Int64) throws {
        guard !report.isEmpty else { return }
        if !report.minutes.isEmpty {
            let minute = try db.statement(
                """
                INSERT INTO report_minute (cid, minute, sent, delivered) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (cid, minute) DO UPDATE SET sent = sent + ?3, delivered = delivered + ?4
                """)
            for (key, counts) in report.minutes where !counts.isZero {
                minute.bind(1, cid).bind(2, key).bind(3, counts.sent).bind(4, counts.delivered)
                try minute.run()
            }
        }
        let country = try db.statement(
            """
            INSERT INTO report_country (cid, region, sent, delivered, spent, estimated, reported, priced)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (cid, region) DO UPDATE SET sent = sent + ?3, delivered = delivered + ?4, spent = spent + ?5,
                estimated = estimated + ?6, reported = reported + ?7, priced = priced + ?8
            """)
        for (region, counts) in report.countries where !counts.isZero {
            country.bind(1, cid).bind(2, region).bind(3, counts.sent).bind(4, counts.delivered).bind(5, counts.spent)
                .bind(6, counts.estimated).bind(7, counts.reported).bind(8, counts.priced)
            try country.run()
        }
    }

    /// The campaign's report counters as kept.
    func reportCounters(cid: Int64) throws -> ReportCounters {
        var counters = ReportCounters()
        let minutes = try db.statement("SELECT minute, sent, delivered FROM report_minute WHERE cid = ?1")
        minutes.bind(1, cid)
        while try minutes.step() {
            counters.add(minute: minutes.int64(0), .init(sent: minutes.int(1), delivered: minutes.int(2)))
        }
        minutes.reset()
        let countries = try db.statement(
            "SELECT region, sent, delivered, spent, estimated, reported, priced FROM report_country WHERE cid = ?1")
        countries.bind(1, cid)
        while try countries.step() {
            counters.add(region: countries.string(0) ?? ReportCounters.unknownRegion,
                         .init(sent: countries.int(1), delivered: countries.int(2), spent: countries.int64(3),
                               estimated: countries.int64(4), reported: countries.int64(5), priced: countries.int(6)))
        }
        countries.reset()
        return counters
    }

    /// The same counters folded from the rows with the rule (a full pass: for checks,
    /// repairs and the migration that adds them).
    func reportCountersFromRows(cid: Int64) throws -> ReportCounters {
        let rows = try db.statement(
            """
            SELECT m.state, m.region, m.cost, m.updated_at, d.state, d.event_at, d.price
            FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
            WHERE m.cid = ?1
            """)
        rows.bind(1, cid)
        var counters = ReportCounters()
        while try rows.step() {
            let region = rows.string(1)
            if let state = MessageState(rawValue: rows.int(0)) {
                counters.add(state, region: region, cost: rows.int64(2), at: rows.int64(3))
            }
            if !rows.isNull(4) {
                counters.addDelivery(rows.string(4).flatMap(DeliveryState.init(rawValue:)),
                                     at: rows.isNull(5) ? nil : rows.int64(5), price: DeliveryTallyChanges.checkedPrice(rows.isNull(6) ? nil : rows.int64(6)),
                                     region: region)
            }
        }
        rows.reset()
        return counters
    }

    /// Replaces the counters with the rows' (`doctor --repair`).
    func rebuildReportCounters(cid: Int64) throws {
        try deleteReportCounters(cid: cid)
        try apply(try reportCountersFromRows(cid: cid), cid: cid)
    }

    func deleteReportCounters(cid: Int64) throws {
        for table in ["report_minute", "report_country"] {
            let clear = try db.statement("DELETE FROM \(table) WHERE cid = ?1")
            clear.bind(1, cid)
            try clear.run()
        }
    }

    /// The first `limit` lines (in file order) of rows not sent that carry `reason`:
    /// a seek on the reason index.
    func exampleRows(cid: Int64, reasons: [String], limit: Int) throws -> [String: [Int]] {
        let statement = try db.statement(
            """
            SELECT row FROM message INDEXED BY message_reason
            WHERE cid = ?1 AND reason = ?2 AND state != \(MessageState.sent.sql) ORDER BY row LIMIT ?3
            """)
        var examples: [String: [Int]] = [:]
        for reason in reasons {
            statement.bind(1, cid).bind(2, reason).bind(3, limit)
            var rows: [Int] = []
            while try statement.step() { rows.append(statement.int(0)) }
            statement.reset()
            if !rows.isEmpty { examples[reason] = rows }
        }
        return examples
    }
}
