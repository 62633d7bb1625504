import HeraldCore
import HeraldJournal

extension Journal {
    /// v6: the live report's counters (`ReportCounters`): sends and deliveries per minute
    /// (`report_minute`), and per country messages sent and delivered, Herald's price of
    /// what was sent and of what it means to send, and the provider-reported cost
    /// (`report_country`). Rows that carry a reason get an index by reason, so the
    /// report's example lines are a seek, not a scan. Existing campaigns are counted
    /// once, from their rows.
    func migrateToV6() throws {
        try db.execute(
            """
            CREATE TABLE report_minute (
                cid INTEGER NOT NULL,
                minute INTEGER NOT NULL,
                sent INTEGER NOT NULL DEFAULT 0,
                delivered INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (cid, minute)
            ) WITHOUT ROWID;
            CREATE TABLE report_country (
                cid INTEGER NOT NULL,
                region TEXT NOT NULL,
                sent INTEGER NOT NULL DEFAULT 0,
                delivered INTEGER NOT NULL DEFAULT 0,
                spent INTEGER NOT NULL DEFAULT 0,
                estimated INTEGER NOT NULL DEFAULT 0,
                reported INTEGER NOT NULL DEFAULT 0,
                priced INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (cid, region)
            ) WITHOUT ROWID;
            CREATE INDEX message_reason ON message (cid, reason, row) WHERE reason IS NOT NULL;
            """)
        let campaigns = try db.statement("SELECT cid FROM campaign")
        var cids: [Int64] = []
        while try campaigns.step() { cids.append(campaigns.int64(0)) }
        campaigns.reset()
        for cid in cids { try apply(try reportCountersFromRows(cid: cid), cid: cid) }
    }
}
