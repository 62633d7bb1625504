import HeraldJournal

/// The PostgreSQL journal's tables, in schema `herald`. Versioned like the SQLite
/// journal: created or migrated on open under an advisory lock (so that processes
/// starting together do it once); a newer version is refused, untouched.
enum PostgresSchema {
    /// The schema, step by step (`herald_meta.schema_version` is the last applied).
    static let migrations: [Migration<PostgresSession>] = [
        Migration(1, "campaigns, messages, leases, ledger, rate buckets, receipts and the suppression list") { session in
            for statement in tables { try session.query(unsafeSQL: statement) }
        },
        Migration(2, "when a campaign's numbers and bodies were purged (retention)") { session in
            try session.query("ALTER TABLE campaign ADD COLUMN purged_at bigint")
        },
        Migration(3, "report counters: per minute and per country; rows with a reason indexed") { session in
            try session.query(
                """
                CREATE TABLE report_minute (cid bigint NOT NULL, minute bigint NOT NULL, sent bigint NOT NULL DEFAULT 0,
                    delivered bigint NOT NULL DEFAULT 0, PRIMARY KEY (cid, minute))
                """)
            try session.query(
                """
                CREATE TABLE report_country (cid bigint NOT NULL, region text NOT NULL, sent bigint NOT NULL DEFAULT 0,
                    delivered bigint NOT NULL DEFAULT 0, spent bigint NOT NULL DEFAULT 0, estimated bigint NOT NULL DEFAULT 0,
                    reported bigint NOT NULL DEFAULT 0, priced bigint NOT NULL DEFAULT 0, PRIMARY KEY (cid, region))
                """)
            try session.query("CREATE INDEX message_reason ON message (cid, reason, row) WHERE reason IS NOT NULL")
            // Campaigns already there are counted once, from their rows.
            for row in try session.query("SELECT cid FROM campaign") {
                try PostgresJournal.rebuildReportCounters(cid: try row.cells.int64(0), session)
            }
        },
        Migration(4, "delivery receipts: the callback token and settings, messages by provider reference, suppress_undeliverable") {
            session in
            try session.query("CREATE TABLE receipt_setting (key text PRIMARY KEY, value text NOT NULL)")
            try session.query("CREATE INDEX message_ref ON message (provider_ref) WHERE provider_ref IS NOT NULL")
            try session.query("CREATE INDEX receipt_received ON receipt (received_at) WHERE raw IS NOT NULL")
            try session.query("ALTER TABLE campaign ADD COLUMN suppress_undeliverable boolean NOT NULL DEFAULT false")
        },
        Migration(5, "rows whose earlier attempt was counted as spent when they were made due again") { session in
            try session.query("ALTER TABLE message ADD COLUMN earlier_spent int2")
        },
        Migration(6, "signed receipt messages taken (SNS MessageIds), for every receiver of the journal") { session in
            try session.query("CREATE TABLE receipt_envelope (id text PRIMARY KEY, taken_at bigint NOT NULL)")
            try session.query("CREATE INDEX receipt_envelope_taken ON receipt_envelope (taken_at)")
        },
        Migration(7, "the provider each row goes through (its index in the campaign's providers: list)") { session in
            try session.query("ALTER TABLE message ADD COLUMN route int2 NOT NULL DEFAULT 0")
        },
        Migration(8, "rows moved from one provider to another (failover), with when and why; the providers: list's names") { session in
            try session.query(
                """
                CREATE TABLE route_switch (cid bigint NOT NULL, row int4 NOT NULL, at bigint NOT NULL, from_route int2 NOT NULL,
                    to_route int2 NOT NULL, reason text NOT NULL)
                """)
            try session.query("CREATE INDEX route_switch_row ON route_switch (cid, row)")
            try session.query("ALTER TABLE campaign ADD COLUMN routes text")
        },
        Migration(9, "sender pools: the identity each row goes from; each identity's units per UTC day and its rate bucket") { session in
            try session.query("ALTER TABLE message ADD COLUMN sender int2")
            try session.query(
                "CREATE TABLE sender_day (identity text NOT NULL, day int4 NOT NULL, used int8 NOT NULL, PRIMARY KEY (identity, day))")
            try session.query("CREATE TABLE sender_bucket (identity text PRIMARY KEY, next_slot timestamptz NOT NULL)")
        },
        Migration(10, "languages: the template variant each row was rendered in") { session in
            try session.query("ALTER TABLE message ADD COLUMN language text")
        },
        Migration(11, "providers demoted by a sender, for every sender of the campaign (JSON)") { session in
            try session.query("ALTER TABLE campaign ADD COLUMN demotions text")
        },
        Migration(12, "sticky sender: the identity each recipient was last sent from, per provider, across campaigns") { session in
            try session.query(
                """
                CREATE TABLE sender_memory (dest int8 NOT NULL, provider text NOT NULL, identity text NOT NULL,
                    cid int8 NOT NULL, at int8 NOT NULL, PRIMARY KEY (dest, provider))
                """)
            try session.query("CREATE INDEX sender_memory_cid ON sender_memory (cid)")
        },
        Migration(13, "what a row's RCS attempt left spent when it fell back to SMS through another provider") { session in
            try session.query("ALTER TABLE route_switch ADD COLUMN spent int8")
        },
    ]
    static let version = migrations.schemaVersion()
    /// Advisory lock keys: the first names a kind of lock, the second which one. Kinds never
    /// share a first key, so a campaign's number never collides with a fixed lock (campaign 1's
    /// import once held every sender's schema check, the migration lock, until it finished).
    static let lockSpace: Int32 = 0x4845_5241  // "HERA": fixed locks, below
    static let importLockSpace: Int32 = 0x4845_5249  // "HERI": a campaign's import, by cid
    static let openLockSpace: Int32 = 0x4845_524F  // "HERO": opens of one campaign, by hashed name
    static let migrationLock: Int32 = 1

    static let tables: [String] = [
        """
        CREATE TABLE campaign (
            cid bigserial PRIMARY KEY, id text NOT NULL, mode text NOT NULL, campaign_path text NOT NULL,
            template_sha text NOT NULL, recipients_sha text NOT NULL, channel text NOT NULL, state text NOT NULL,
            total_rows int NOT NULL DEFAULT 0, created_at bigint NOT NULL, updated_at bigint NOT NULL,
            ledger_scope text NOT NULL, max_price bigint, campaign_limit bigint, monthly_limit bigint,
            reserved bigint NOT NULL DEFAULT 0, spent bigint NOT NULL DEFAULT 0,
            stop_reason text, stop_kind text, control text, scheduled_at bigint, sender text NOT NULL,
            UNIQUE (id, mode))
        """,
        // One row per recipient message; `owner` is the lease of the sender holding it while `sending`.
        """
        CREATE TABLE message (
            cid bigint NOT NULL, row int NOT NULL, dest bigint, region text, body text, parts int NOT NULL DEFAULT 1,
            cost bigint NOT NULL DEFAULT 0, tz text, state smallint NOT NULL, reason text, detail text, doubt text,
            attempts int NOT NULL DEFAULT 0, not_before bigint, provider_ref text, spend_month int,
            owner bigint, claim_seq bigint, updated_at bigint NOT NULL,
            PRIMARY KEY (cid, row))
        """,
        "CREATE INDEX message_pending ON message (cid, row) WHERE state = \(MessageState.pending.rawValue)",
        "CREATE INDEX message_sending ON message (cid, owner) WHERE state = \(MessageState.sending.rawValue)",
        "CREATE INDEX message_retry ON message (cid, not_before) WHERE state = \(MessageState.retry.rawValue)",
        "CREATE INDEX message_in_doubt ON message (cid, row) WHERE state = \(MessageState.inDoubt.rawValue)",
        "CREATE INDEX message_failed ON message (cid, row) WHERE state = \(MessageState.failed.rawValue)",
        "CREATE TABLE tally (cid bigint NOT NULL, state smallint NOT NULL, reason text NOT NULL, n bigint NOT NULL, PRIMARY KEY (cid, state, reason))",
        """
        CREATE TABLE ledger (cid bigint NOT NULL, month int NOT NULL, channel text NOT NULL,
            reserved bigint NOT NULL DEFAULT 0, spent bigint NOT NULL DEFAULT 0, PRIMARY KEY (cid, month, channel))
        """,
        // The monthly limit's row: locked by every claim that reserves against it.
        """
        CREATE TABLE month_ledger (scope text NOT NULL, channel text NOT NULL, month int NOT NULL,
            reserved bigint NOT NULL DEFAULT 0, spent bigint NOT NULL DEFAULT 0, PRIMARY KEY (scope, channel, month))
        """,
        // One row per sending process; heartbeats by the database's clock.
        """
        CREATE TABLE lease (lid bigserial PRIMARY KEY, cid bigint NOT NULL, token text NOT NULL, pid int NOT NULL,
            host text NOT NULL, heartbeat timestamptz NOT NULL, step_seq bigint NOT NULL DEFAULT 0)
        """,
        "CREATE INDEX lease_campaign ON lease (cid)",
        // A campaign's token bucket (GCRA): the next free send slot, by the database's clock.
        "CREATE TABLE rate_bucket (cid bigint PRIMARY KEY, next_slot timestamptz NOT NULL)",
        // Delivery receipts and the suppression list, as `herald journal copy` brings them from SQLite.
        """
        CREATE TABLE delivery (cid bigint NOT NULL, row int NOT NULL, state text NOT NULL, code text, detail text,
            sent_at bigint, event_at bigint, read_at bigint, price bigint, PRIMARY KEY (cid, row))
        """,
        """
        CREATE TABLE receipt (eid bigserial PRIMARY KEY, received_at bigint NOT NULL, provider text NOT NULL,
            type text NOT NULL,
            ref text, cid bigint, row int, raw text)
        """,
        "CREATE TABLE delivery_tally (cid bigint NOT NULL, state text NOT NULL, code text NOT NULL DEFAULT '', n bigint NOT NULL, PRIMARY KEY (cid, state, code))",
        "CREATE TABLE delivery_latency (cid bigint NOT NULL, bucket bigint NOT NULL, n bigint NOT NULL, PRIMARY KEY (cid, bucket))",
        """
        CREATE TABLE suppression (dest bigint NOT NULL, scope text NOT NULL DEFAULT '', reason text, source text NOT NULL,
            added_at bigint NOT NULL, PRIMARY KEY (dest, scope))
        """,
        """
        CREATE TABLE run (rid bigserial PRIMARY KEY, cid bigint NOT NULL, mode text NOT NULL, pid int NOT NULL,
            host text NOT NULL, started_at bigint NOT NULL, ended_at bigint, outcome text, sent int)
        """,
    ]

    /// Creates the schema, or checks its version. Nothing is written to a newer one.
    static func prepare(_ session: PostgresSession) throws {
        try session.transaction {
            try session.query("SELECT pg_advisory_xact_lock(\(lockSpace), \(migrationLock))")
            var existing = 0
            let found = try session.query("SELECT to_regclass('herald.herald_meta') IS NOT NULL")
            if try found.first?.cells.bool(0) == true {
                let rows = try session.query("SELECT value FROM herald.herald_meta WHERE key = 'schema_version'")
                existing = try rows.first.flatMap { try $0.cells.string(0) }.flatMap(Int.init) ?? 0
                if existing > version {
                    throw JournalError.newerSchema(found: existing, supported: version, path: session.target.description)
                }
                if existing == version { return }
            }
            try session.query("CREATE SCHEMA IF NOT EXISTS herald")
            try session.query("SET LOCAL search_path TO herald")
            try session.query("CREATE TABLE IF NOT EXISTS herald_meta (key text PRIMARY KEY, value text NOT NULL)")
            for migration in migrations.after(existing) { try migration.apply(session) }
            try session.query(
                """
                INSERT INTO herald_meta (key, value) VALUES ('schema_version', \(String(version)))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """)
        }
    }
}

extension PostgresJournal {
    /// The columns `table` has, for the tests that check the schema holds what the rules read.
    package func columns(of table: String) throws(JournalError) -> Set<String> {
        try attempt {
            Set(try session.query(
                """
                SELECT column_name::text FROM information_schema.columns
                WHERE table_schema = 'herald' AND table_name = \(table)
                """).compactMap { try $0.cells.string(0) })
        }
    }
}
