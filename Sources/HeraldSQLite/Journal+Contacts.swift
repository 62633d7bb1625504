import HeraldCore
import HeraldJournal

/// A capped campaign's view of who was messaged: the contact history as it was when the
/// campaign started (a Bloom filter of the numbers with a send in the window spares most
/// rows a look-up), and the campaigns other processes send meanwhile, whose claims are
/// counted from their rows as they are made.
final class ContactCheck {
    let cid: Int64
    let scope: LedgerScope
    let cap: FrequencyCap
    let filter: DestinationFilter
    /// When the history was copied: later sends of unfinished campaigns are read live.
    let copiedAt: Int64
    /// The other campaigns of the scope that may send now, read again at each claim.
    var live: [Int64] = []
    /// Whether the index of numbers exists (made on the first claim that needs it).
    var indexed = false

    init(cid: Int64, scope: LedgerScope, cap: FrequencyCap, filter: DestinationFilter, copiedAt: Int64) {
        self.cid = cid
        self.scope = scope
        self.cap = cap
        self.filter = filter
        self.copiedAt = copiedAt
    }
}

extension Journal {
    /// Before a capped campaign sends: copies the sends of every other campaign of its
    /// scope into the contact history (a finished campaign once, sorted by number), then
    /// notes which numbers had a send in the window. What other processes claim from then
    /// on is read from their rows at each claim, so a number another campaign messages
    /// while this one runs is capped from its next claim on.
    public func prepareFrequencyCap(cid: Int64, cap: FrequencyCap) throws(JournalError) {
        let scope = try read { try ledgerScope(cid: cid) }
        let copiedAt = now()
        let since = copiedAt - cap.milliseconds
        try write {
            let campaigns = try db.statement(
                """
                SELECT cid, state, lease_token IS NULL FROM campaign
                WHERE cid != ?1 AND ledger_scope = ?2 AND mode != '\(RunMode.dryRun.rawValue)' AND contacts_synced = 0
                    AND state != \(CampaignState.importing.sql) AND purged_at IS NULL
                """)
            campaigns.bind(1, cid).bind(2, scope.rawValue)
            var pending: [(cid: Int64, final: Bool)] = []
            while try campaigns.step() {
                let state = CampaignState(rawValue: campaigns.string(1) ?? "")
                pending.append((campaigns.int64(0), (state == .completed || state == .cancelled) && campaigns.int(2) != 0))
            }
            campaigns.reset()
            let copy = try db.statement(
                """
                INSERT OR IGNORE INTO contact (scope, dest, at, cid)
                SELECT ?2, dest, updated_at, cid FROM message
                WHERE cid = ?1 AND state = \(MessageState.sent.sql) AND dest IS NOT NULL AND updated_at < ?3 ORDER BY dest
                """)
            let done = try db.statement("UPDATE campaign SET contacts_synced = 1 WHERE cid = ?1")
            for campaign in pending {
                // An unfinished campaign's rows from this moment on are read live at each claim.
                copy.bind(1, campaign.cid).bind(2, scope.rawValue).bind(3, campaign.final ? Int64.max : copiedAt)
                try copy.run()
                if campaign.final {
                    done.bind(1, campaign.cid)
                    try done.run()
                }
            }
        }
        contactCheck = try read {
            let count = try db.statement("SELECT count(DISTINCT dest) FROM contact WHERE scope = ?1 AND at > ?2")
            count.bind(1, scope.rawValue).bind(2, since)
            _ = try count.step()
            let total = count.int(0)
            count.reset()
            var filter = DestinationFilter(expected: max(total, 1), maxBytes: 16 << 20)
            let all = try db.statement("SELECT dest FROM contact WHERE scope = ?1 AND at > ?2")
            all.bind(1, scope.rawValue).bind(2, since)
            while try all.step() { _ = filter.insert(UInt64(bitPattern: all.int64(0))) }
            all.reset()
            return ContactCheck(cid: cid, scope: scope, cap: cap, filter: filter, copiedAt: copiedAt)
        }
    }

    /// At each claim of a capped campaign: the other campaigns of its scope that may be
    /// sending now (not finished when the history was copied, or started since).
    func refreshLiveContacts(_ check: ContactCheck) throws {
        let statement = try db.statement(
            """
            SELECT cid FROM campaign WHERE cid != ?1 AND ledger_scope = ?2 AND mode != '\(RunMode.dryRun.rawValue)'
                AND contacts_synced = 0 AND purged_at IS NULL
            """)
        statement.bind(1, check.cid).bind(2, check.scope.rawValue)
        var live: [Int64] = []
        while try statement.step() { live.append(statement.int64(0)) }
        statement.reset()
        // Their rows are found by number through an index made the first time a capped
        // campaign meets another that may send (once per journal; every later send keeps
        // it up, so a journal that never runs capped campaigns side by side never pays).
        if !live.isEmpty, !check.indexed {
            try db.execute(
                """
                CREATE INDEX IF NOT EXISTS message_dest ON message (dest)
                WHERE state IN (\(MessageState.sending.sql), \(MessageState.sent.sql))
                """)
            check.indexed = true
        }
        check.live = live
    }

    /// Whether a number already got its cap's messages in the window ending `now`: from
    /// the history, plus what the campaigns sending meanwhile claimed since it was copied.
    func isCapped(_ destination: UInt64, check: ContactCheck, now: Int64) throws -> Bool {
        let since = now - check.cap.milliseconds
        var sent = 0
        if check.filter.mayContain(destination) {
            let count = try db.statement("SELECT count(*) FROM contact WHERE scope = ?1 AND dest = ?2 AND at > ?3")
            count.bind(1, check.scope.rawValue).bind(2, Int64(bitPattern: destination)).bind(3, since)
            _ = try count.step()
            sent = count.int(0)
            count.reset()
        }
        if sent < check.cap.messages, !check.live.isEmpty {
            let count = try db.statement(
                """
                SELECT count(*) FROM message INDEXED BY message_dest
                WHERE dest = ?1 AND state IN (\(MessageState.sending.sql), \(MessageState.sent.sql)) AND updated_at >= ?2
                    AND cid IN (SELECT value FROM json_each(?3))
                """)
            count.bind(1, Int64(bitPattern: destination)).bind(2, max(since + 1, check.copiedAt))
                .bind(3, "[" + check.live.map(String.init).joined(separator: ",") + "]")
            _ = try count.step()
            sent += count.int(0)
            count.reset()
        }
        return FrequencyCap.reached(sent: sent, cap: check.cap)
    }

    /// For `estimate` (read-only): counts each number's sends in the window from the
    /// history and from the campaigns not yet copied into it, in memory.
    public func frequencyChecker(campaign id: String, scope: LedgerScope, cap: FrequencyCap) throws(JournalError) -> (UInt64) -> Bool {
        try read {
            let since = now() - cap.milliseconds
            var counts: [UInt64: Int] = [:]
            let history = try db.statement("SELECT dest, count(*) FROM contact WHERE scope = ?1 AND at > ?2 GROUP BY dest")
            history.bind(1, scope.rawValue).bind(2, since)
            while try history.step() { counts[UInt64(bitPattern: history.int64(0)), default: 0] += history.int(1) }
            history.reset()
            let fresh = try db.statement(
                """
                SELECT m.dest FROM campaign c JOIN message m ON m.cid = c.cid
                WHERE c.ledger_scope = ?1 AND c.mode != '\(RunMode.dryRun.rawValue)' AND c.contacts_synced = 0
                    AND c.id != ?3 AND m.state = \(MessageState.sent.sql) AND m.dest IS NOT NULL AND m.updated_at > ?2
                    AND NOT EXISTS (SELECT 1 FROM contact AS h WHERE h.scope = ?1 AND h.dest = m.dest AND h.cid = m.cid)
                """)
            fresh.bind(1, scope.rawValue).bind(2, since).bind(3, id)
            while try fresh.step() { counts[UInt64(bitPattern: fresh.int64(0)), default: 0] += 1 }
            fresh.reset()
            return { counts[$0, default: 0] >= cap.messages }
        }
    }
}
