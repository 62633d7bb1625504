import HeraldJournal

extension Journal {
    /// The SQLite journal's schema, step by step (`PRAGMA user_version` is the last applied).
    static let migrations: [Migration<Journal>] = [
        Migration(1, "campaigns, runs and messages") { journal in
            try journal.db.execute(
            """
            CREATE TABLE campaign (
                cid INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                campaign_path TEXT NOT NULL,
                template_sha TEXT NOT NULL,
                recipients_sha TEXT NOT NULL,
                channel TEXT NOT NULL,
                state TEXT NOT NULL,
                total_rows INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                lease_token TEXT,
                lease_pid INTEGER,
                lease_host TEXT,
                lease_heartbeat INTEGER
            );
            CREATE TABLE run (
                rid INTEGER PRIMARY KEY,
                cid INTEGER NOT NULL REFERENCES campaign(cid),
                mode TEXT NOT NULL,
                pid INTEGER NOT NULL,
                host TEXT NOT NULL,
                started_at INTEGER NOT NULL,
                ended_at INTEGER,
                outcome TEXT,
                sent INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE message (
                cid INTEGER NOT NULL,
                row INTEGER NOT NULL,
                state INTEGER NOT NULL,
                dest INTEGER,
                region TEXT,
                body TEXT,
                reason TEXT,
                detail TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                not_before INTEGER,
                provider_ref TEXT,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (cid, row)
            ) WITHOUT ROWID;
            CREATE INDEX message_retry ON message (cid, not_before) WHERE state = \(MessageState.retry.sql);
            """)
        },
        // Budget: per-message parts and cost, the month a reservation was made in,
        // per-campaign limits, and the spend ledger.
        Migration(2, "budget: costs, limits and the spend ledger") { journal in
            try journal.db.execute(
            """
            ALTER TABLE message ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE message ADD COLUMN cost INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE message ADD COLUMN spend_month INTEGER;
            ALTER TABLE campaign ADD COLUMN ledger_scope TEXT NOT NULL DEFAULT 'real';
            ALTER TABLE campaign ADD COLUMN max_price INTEGER;
            ALTER TABLE campaign ADD COLUMN campaign_limit INTEGER;
            ALTER TABLE campaign ADD COLUMN monthly_limit INTEGER;
            ALTER TABLE campaign ADD COLUMN stop_reason TEXT;
            CREATE TABLE ledger (
                cid INTEGER NOT NULL REFERENCES campaign(cid),
                month INTEGER NOT NULL,
                channel TEXT NOT NULL,
                reserved INTEGER NOT NULL DEFAULT 0,
                spent INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (cid, month, channel)
            ) WITHOUT ROWID;
            """)
        },
        // Schedules: the time zone(s) a recipient's send window is read in; pause and
        // cancel requests from other processes; when a worker is to start a campaign.
        Migration(3, "schedules, windows and control requests") { journal in
            try journal.db.execute(
            """
            ALTER TABLE message ADD COLUMN tz TEXT;
            ALTER TABLE campaign ADD COLUMN control TEXT;
            ALTER TABLE campaign ADD COLUMN scheduled_at INTEGER;
            """)
        },
        Migration(4, "modes, counters, doubt, suppression and contacts") { try $0.migrateToV4() },
        Migration(5, "delivery receipts") { try $0.migrateToV5() },
        Migration(6, "report counters") { try $0.migrateToV6() },
        Migration(7, "rows whose earlier attempt was counted as spent when they were made due again") { journal in
            try journal.db.execute("ALTER TABLE message ADD COLUMN earlier_spent INTEGER")
        },
        Migration(8, "signed receipt messages taken (SNS MessageIds), for every receiver of the journal") { journal in
            try journal.db.execute(
                """
                CREATE TABLE receipt_envelope (id TEXT PRIMARY KEY, taken_at INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX receipt_envelope_taken ON receipt_envelope (taken_at);
                """)
        },
        Migration(9, "the provider each row goes through (its index in the campaign's providers: list)") { journal in
            try journal.db.execute("ALTER TABLE message ADD COLUMN route INTEGER NOT NULL DEFAULT 0")
        },
        Migration(10, "rows moved from one provider to another (failover), with when and why; the providers: list's names") { journal in
            try journal.db.execute(
                """
                CREATE TABLE route_switch (cid INTEGER NOT NULL, row INTEGER NOT NULL, at INTEGER NOT NULL,
                    from_route INTEGER NOT NULL, to_route INTEGER NOT NULL, reason TEXT NOT NULL);
                CREATE INDEX route_switch_row ON route_switch (cid, row);
                ALTER TABLE campaign ADD COLUMN routes TEXT;
                """)
        },
        Migration(11, "sender pools: the identity each row goes from; each identity's units per UTC day") { journal in
            try journal.db.execute(
                """
                ALTER TABLE message ADD COLUMN sender INTEGER;
                CREATE TABLE sender_day (identity TEXT NOT NULL, day INTEGER NOT NULL, used INTEGER NOT NULL,
                    PRIMARY KEY (identity, day)) WITHOUT ROWID;
                """)
        },
        Migration(12, "languages: the template variant each row was rendered in") { journal in
            try journal.db.execute("ALTER TABLE message ADD COLUMN language TEXT")
        },
        Migration(13, "providers demoted by a sender, for every sender of the campaign (JSON)") { journal in
            try journal.db.execute("ALTER TABLE campaign ADD COLUMN demotions TEXT")
        },
        Migration(14, "sticky sender: the identity each recipient was last sent from, per provider, across campaigns") { journal in
            try journal.db.execute(
                """
                CREATE TABLE sender_memory (dest INTEGER NOT NULL, provider TEXT NOT NULL, identity TEXT NOT NULL,
                    cid INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (dest, provider)) WITHOUT ROWID;
                CREATE INDEX sender_memory_cid ON sender_memory (cid);
                """)
        },
        Migration(15, "what a row's RCS attempt left spent when it fell back to SMS through another provider") { journal in
            try journal.db.execute("ALTER TABLE route_switch ADD COLUMN spent INTEGER")
        },
    ]
}

extension Journal {
    /// The columns `table` has, for the tests that check the schema holds what the rules read.
    package func columns(of table: String) throws(JournalError) -> Set<String> {
        try read {
            let statement = try db.statement("SELECT name FROM pragma_table_info(?1)")
            statement.bind(1, table)
            var names: Set<String> = []
            while try statement.step() { if let name = statement.string(0) { names.insert(name) } }
            statement.reset()
            return names
        }
    }
}

extension Journal {
    /// Runs SQL as given, for tests that put a journal in a state an older release could
    /// leave (never called by Herald itself).
    package func executeForTesting(_ sql: String) throws(JournalError) {
        try write { try db.execute(sql) }
    }
}
