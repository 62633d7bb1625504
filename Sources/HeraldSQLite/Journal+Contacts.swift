import HeraldCore
import HeraldJournal

/// A capped campaign's view of who was messaged: a Bloom filter of the numbers with a
/// send in the window, so that most rows cost no look-up.
final class ContactCheck {
    let scope: LedgerScope
    let cap: FrequencyCap
    let filter: DestinationFilter

    init(scope: LedgerScope, cap: FrequencyCap, filter: DestinationFilter) {
        self.scope = scope
        self.cap = cap
        self.filter = filter
    }
}

extension Journal {
    /// Before a capped campaign sends: copies the sends of every other campaign of its
    /// scope into the contact history (a finished campaign once, sorted by number), then
    /// notes which numbers had a send in the window. Sends made later by other processes
    /// are seen at the campaign's next start.
    public func prepareFrequencyCap(cid: Int64, cap: FrequencyCap) throws(JournalError) {
        let scope = try read { try ledgerScope(cid: cid) }
        let since = now() - cap.milliseconds
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
                WHERE cid = ?1 AND state = \(MessageState.sent.sql) AND dest IS NOT NULL ORDER BY dest
                """)
            let done = try db.statement("UPDATE campaign SET contacts_synced = 1 WHERE cid = ?1")
            for campaign in pending {
                copy.bind(1, campaign.cid).bind(2, scope.rawValue)
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
            return ContactCheck(scope: scope, cap: cap, filter: filter)
        }
    }

    /// Whether a number already got its cap's messages in the window ending `now`.
    func isCapped(_ destination: UInt64, check: ContactCheck, now: Int64) throws -> Bool {
        guard check.filter.mayContain(destination) else { return false }
        let count = try db.statement("SELECT count(*) FROM contact WHERE scope = ?1 AND dest = ?2 AND at > ?3")
        count.bind(1, check.scope.rawValue).bind(2, Int64(bitPattern: destination)).bind(3, now - check.cap.milliseconds)
        defer { count.reset() }
        _ = try count.step()
        return count.int(0) >= check.cap.messages
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
                """)
            fresh.bind(1, scope.rawValue).bind(2, since).bind(3, id)
            while try fresh.step() { counts[UInt64(bitPattern: fresh.int64(0)), default: 0] += 1 }
            fresh.reset()
            return { counts[$0, default: 0] >= cap.messages }
        }
    }
}
