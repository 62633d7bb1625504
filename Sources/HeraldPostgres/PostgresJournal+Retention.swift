import HeraldCore
import HeraldJournal
import PostgresNIO

/// `herald purge` and `retention_days` on PostgreSQL: the same promise as on SQLite, in one
/// transaction that holds the campaign row (no sender can take it up meanwhile).
extension PostgresJournal: RetentionJournal {
    /// With `vacuum`, `VACUUM` then marks the old row versions' space free; their bytes stay
    /// in the table's pages until reused, and in the server's WAL and backups for as long as
    /// its own retention keeps them.
    public func purge(cid: Int64, vacuum: Bool) throws(JournalError) -> Int? {
        let time = currentTime()
        let rows: Int? = try attempt {
            try session.transaction {
                let state = try session.query("SELECT state FROM campaign WHERE cid = \(cid) FOR UPDATE")
                    .first.flatMap { try $0.cells.string(0) }.flatMap(CampaignState.init(rawValue:))
                guard PurgeRule.allows(state) else { return nil }
                let cleared = try session.query(
                    """
                    WITH cleared AS (UPDATE message SET \(sql: PurgeRule.clearing) WHERE cid = \(cid) RETURNING 1)
                    SELECT count(*)::int8 FROM cleared
                    """).first?.cells.int(0) ?? 0
                try session.query("UPDATE receipt SET raw = NULL WHERE cid = \(cid) AND raw IS NOT NULL")
                // The identities its numbers were last sent from go with them (sticky sender).
                try session.query("DELETE FROM sender_memory WHERE cid = \(cid)")
                try session.query("UPDATE campaign SET purged_at = \(time), updated_at = \(time) WHERE cid = \(cid)")
                return cleared
            }
        }
        if rows != nil, vacuum {
            try attempt {
                try session.query("VACUUM message")
                try session.query("VACUUM receipt")
            }
        }
        return rows
    }
}
