import HeraldCore
import HeraldJournal

extension Journal {
    public func deliverySummary(cid: Int64) throws(JournalError) -> DeliverySummary {
        try read {
            var summary = DeliverySummary()
            let counts = try db.statement("SELECT state, code, n FROM delivery_tally WHERE cid = ?1 AND n != 0")
            counts.bind(1, cid)
            while try counts.step() {
                summary.addCounter(name: counts.string(0) ?? "", code: counts.string(1) ?? "", count: counts.int(2))
            }
            counts.reset()
            let latency = try db.statement("SELECT bucket, n FROM delivery_latency WHERE cid = ?1 AND n != 0 ORDER BY bucket")
            latency.bind(1, cid)
            while try latency.step() {
                summary.addLatency(bucket: latency.int(0), count: latency.int(1))
            }
            latency.reset()
            return summary
        }
    }

    /// Events no message matched, by provider (kept in `receipt` with no row).
    public func unmatchedReceipts() throws(JournalError) -> [String: Int] {
        try read {
            let statement = try db.statement("SELECT code, n FROM delivery_tally WHERE cid = 0 AND state = 'unmatched' AND n != 0")
            var counts: [String: Int] = [:]
            while try statement.step() { counts[statement.string(0) ?? "", default: 0] += statement.int(1) }
            statement.reset()
            return counts
        }
    }

    /// The provider-reported cost of a campaign's messages (AWS `totalMessagePrice`), from
    /// its counter.
    public func reportedCost(cid: Int64) throws(JournalError) -> Money? {
        try read {
            let statement = try db.statement("SELECT n FROM delivery_tally WHERE cid = ?1 AND state = 'price' AND code = ''")
            statement.bind(1, cid)
            defer { statement.reset() }
            guard try statement.step(), statement.int64(0) != 0 else { return nil }
            return Money(nanos: statement.int64(0))
        }
    }
}
