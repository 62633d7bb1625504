import HeraldCore
import HeraldJournal
/// Schema v4: run modes, senders and stop kinds as columns; counters kept per state
/// and reason; why a row is in doubt; where pending rows start; the suppression list.
extension Journal {
    func migrateToV4() throws {
        let pending = MessageState.pending.sql, sending = MessageState.sending.sql, sent = MessageState.sent.sql
        let retry = MessageState.retry.sql, inDoubt = MessageState.inDoubt.sql
        try db.execute(
            """
            CREATE TABLE campaign_v4 (
                cid INTEGER PRIMARY KEY,
                id TEXT NOT NULL,
                mode TEXT NOT NULL DEFAULT 'real',
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
                lease_heartbeat INTEGER,
                ledger_scope TEXT NOT NULL DEFAULT 'real',
                max_price INTEGER,
                campaign_limit INTEGER,
                monthly_limit INTEGER,
                stop_reason TEXT,
                control TEXT,
                scheduled_at INTEGER,
                sender TEXT NOT NULL DEFAULT 'run',
                stop_kind TEXT,
                pending_after INTEGER NOT NULL DEFAULT 0,
                purged_at INTEGER,
                contacts_synced INTEGER NOT NULL DEFAULT 0,
                UNIQUE (id, mode)
            );
            INSERT INTO campaign_v4 (cid, id, mode, campaign_path, template_sha, recipients_sha, channel, state,
                total_rows, created_at, updated_at, lease_token, lease_pid, lease_host, lease_heartbeat, ledger_scope,
                max_price, campaign_limit, monthly_limit, stop_reason, control, scheduled_at, sender, stop_kind)
            SELECT cid,
                CASE WHEN id LIKE '%@simulation' THEN substr(id, 1, length(id) - 11)
                     WHEN id LIKE '%@dry-run' THEN substr(id, 1, length(id) - 8) ELSE id END,
                CASE WHEN id LIKE '%@simulation' THEN 'simulation' WHEN id LIKE '%@dry-run' THEN 'dry_run' ELSE 'real' END,
                campaign_path, template_sha, recipients_sha, channel, state, total_rows, created_at, updated_at,
                lease_token, lease_pid, lease_host, lease_heartbeat, ledger_scope, max_price, campaign_limit,
                monthly_limit, replace(stop_reason, ' (worker)', ''), control, scheduled_at,
                CASE WHEN stop_reason LIKE '% (worker)' THEN 'worker' ELSE 'run' END,
                CASE WHEN stop_reason IS NULL THEN NULL
                     WHEN stop_reason LIKE 'signal %' THEN 'signal'
                     WHEN stop_reason = 'limit' THEN 'limit'
                     WHEN stop_reason LIKE 'campaign_limit%' OR stop_reason LIKE 'monthly_limit%'
                          OR stop_reason LIKE 'provider_spend_limit%' THEN 'budget'
                     WHEN stop_reason = 'paused' THEN 'paused'
                     WHEN stop_reason = 'cancelled' THEN 'cancelled'
                     WHEN stop_reason LIKE 'provider_refused%' THEN 'provider_refused' END
            FROM campaign;
            DROP TABLE campaign;
            ALTER TABLE campaign_v4 RENAME TO campaign;

            ALTER TABLE message ADD COLUMN doubt TEXT;
            UPDATE message SET reason = 'lost_answer' WHERE reason = 'indeterminate';
            UPDATE message SET doubt = CASE WHEN reason = 'lost_answer' THEN 'lost_answer' ELSE 'interrupted' END,
                reason = CASE WHEN reason = 'lost_answer' THEN 'lost_answer' ELSE 'interrupted' END
            WHERE state = \(inDoubt);
            UPDATE message SET doubt = 'lost_answer' WHERE state = \(retry) AND reason = 'lost_answer';
            CREATE INDEX message_sending ON message (cid, row) WHERE state = \(sending);
            CREATE INDEX message_in_doubt ON message (cid, row) WHERE state = \(inDoubt);
            CREATE INDEX message_failed ON message (cid, row) WHERE state = \(MessageState.failed.sql);

            CREATE TABLE tally (
                cid INTEGER NOT NULL REFERENCES campaign(cid),
                state INTEGER NOT NULL,
                reason TEXT NOT NULL DEFAULT '',
                n INTEGER NOT NULL,
                PRIMARY KEY (cid, state, reason)
            ) WITHOUT ROWID;
            INSERT INTO tally (cid, state, reason, n)
            SELECT cid, state, CASE WHEN state IN (\(pending), \(sending), \(sent)) THEN '' ELSE coalesce(reason, '') END, count(*)
            FROM message GROUP BY 1, 2, 3;
            CREATE TABLE suppression (
                dest INTEGER NOT NULL,
                scope TEXT NOT NULL DEFAULT '',
                reason TEXT,
                source TEXT NOT NULL,
                added_at INTEGER NOT NULL,
                PRIMARY KEY (dest, scope)
            ) WITHOUT ROWID;
            CREATE TABLE contact (
                scope TEXT NOT NULL,
                dest INTEGER NOT NULL,
                at INTEGER NOT NULL,
                cid INTEGER NOT NULL,
                PRIMARY KEY (scope, dest, at, cid)
            ) WITHOUT ROWID;
            CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO journal_meta VALUES ('suppression_version', 0);
            UPDATE campaign SET pending_after = coalesce(
                (SELECT row - 1 FROM message m WHERE m.cid = campaign.cid AND m.state = \(pending) ORDER BY row LIMIT 1),
                (SELECT coalesce(max(row), 0) FROM message m WHERE m.cid = campaign.cid));
            """)
    }
}
