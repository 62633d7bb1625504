import HeraldCore
import HeraldJournal

extension Journal {
    /// What the report draws, from the counters: constant time whatever the row count
    /// (a few hundred counters, and one index seek per reason for its example lines).
    public func reportAggregates(cid: Int64, examplesPerReason: Int = 5) throws(JournalError) -> ReportAggregates {
        try read {
            let reasons = try db.statement("SELECT DISTINCT reason FROM tally WHERE cid = ?1 AND reason != '' AND n != 0")
            reasons.bind(1, cid)
            var codes: [String] = []
            while try reasons.step() { if let code = reasons.string(0) { codes.append(code) } }
            reasons.reset()
            return ReportAggregates(counters: try reportCounters(cid: cid),
                                    examples: try exampleRows(cid: cid, reasons: codes, limit: examplesPerReason))
        }
    }

    /// The report's counters recounted from the rows, beside the ones kept (for tests
    /// and benchmarks that check the two agree).
    package func reportCounterPair(cid: Int64) throws(JournalError) -> (kept: ReportCounters, fromRows: ReportCounters) {
        try read { (try reportCounters(cid: cid), try reportCountersFromRows(cid: cid)) }
    }

    /// Every row of a campaign in file order, handed to `line` one at a time (constant memory).
    public func forEachRecipient(cid: Int64, _ line: (RecipientLine) throws -> Void) throws(JournalError) {
        try read {
            let statement = try db.statement(
                """
                SELECT m.row, m.dest, m.region, m.state, m.reason, m.detail, m.parts, m.cost, m.updated_at,
                    d.state, d.event_at, d.read_at, m.provider_ref, m.route, m.language
                FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
                WHERE m.cid = ?1 ORDER BY m.row
                """)
            statement.bind(1, cid)
            defer { statement.reset() }
            while try statement.step() {
                let delivery = statement.string(9)
                let delivered = delivery == DeliveryState.delivered.rawValue || delivery == DeliveryState.fallback.rawValue
                var recipient = RecipientLine(
                    row: statement.int(0), destination: statement.isNull(1) ? nil : UInt64(bitPattern: statement.int64(1)),
                    region: statement.string(2), state: MessageState(rawValue: statement.int(3)) ?? .pending,
                    reason: statement.string(4), detail: statement.string(5), parts: statement.int(6), cost: statement.int64(7),
                    updatedAt: statement.int64(8), delivery: delivery,
                    deliveredAt: delivered && !statement.isNull(10) ? statement.int64(10) : nil,
                    readAt: statement.isNull(11) ? nil : statement.int64(11), providerRef: statement.string(12))
                recipient.route = RouteIndex.checked(statement.int64(13))
                recipient.language = statement.string(14)
                try line(recipient)
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
