import HeraldCore
import HeraldJournal

extension Journal {
    /// v5: delivery receipts. What became of each sent message (`delivery`, one row per
    /// message that had an event), every event as received (`receipt`, append-only,
    /// raw bodies pruned by `herald receipts prune`), counters by delivery state and
    /// send-to-delivery time (`delivery_tally`, `delivery_latency`), the receipts
    /// token and base URL (`receipt_setting`), and an index on provider references
    /// for providers whose events name only their own message id.
    func migrateToV5() throws {
        // The simulator's references (and dry runs') name nothing a receipt could need:
        // cleared, so the new index holds only real providers' message ids.
        try db.execute(
            "UPDATE message SET provider_ref = NULL WHERE provider_ref LIKE 'sim-%' OR provider_ref = 'dry-run'")
        try db.execute(
            """
            CREATE TABLE delivery (
                cid INTEGER NOT NULL,
                row INTEGER NOT NULL,
                state TEXT NOT NULL,
                code TEXT,
                detail TEXT,
                sent_at INTEGER,
                event_at INTEGER,
                read_at INTEGER,
                price INTEGER,
                PRIMARY KEY (cid, row)
            ) WITHOUT ROWID;
            CREATE TABLE receipt (
                eid INTEGER PRIMARY KEY,
                received_at INTEGER NOT NULL,
                provider TEXT NOT NULL,
                type TEXT NOT NULL,
                ref TEXT,
                cid INTEGER,
                row INTEGER,
                raw TEXT
            );
            CREATE TABLE delivery_tally (
                cid INTEGER NOT NULL,
                state TEXT NOT NULL,
                code TEXT NOT NULL DEFAULT '',
                n INTEGER NOT NULL,
                PRIMARY KEY (cid, state, code)
            ) WITHOUT ROWID;
            CREATE TABLE delivery_latency (
                cid INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (cid, bucket)
            ) WITHOUT ROWID;
            CREATE TABLE receipt_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE INDEX message_ref ON message (provider_ref) WHERE provider_ref IS NOT NULL;
            ALTER TABLE campaign ADD COLUMN suppress_undeliverable INTEGER NOT NULL DEFAULT 0;
            """)
    }
}
