import HeraldCore
import HeraldJournal

extension Journal {
    /// Removes the numbers, bodies, time zones and provider ids of a finished (completed
    /// or cancelled) campaign's rows, and the raw bodies of its receipts; keeps every row's state, reason, parts, cost and
    /// country, the counters and the ledger, so `status` and its spend stay as they were.
    /// Cleared values are overwritten in the database pages (`secure_delete`); with
    /// `vacuum` the file is rewritten too, and the WAL emptied, so nothing of them is left
    /// on disk. Returns the rows purged, or nil when the campaign has not finished.
    public func purge(cid: Int64, vacuum: Bool = true) throws(JournalError) -> Int? {
        let rows: Int? = try write {
            let state = try campaignValue("state", cid: cid) { CampaignState(rawValue: $0.string(0) ?? "") }
            guard PurgeRule.allows(state) else { return nil }
            try db.execute("PRAGMA secure_delete=ON")
            defer { try? db.execute("PRAGMA secure_delete=OFF") }
            let clear = try db.statement(
                "UPDATE message SET \(PurgeRule.clearing) WHERE cid = ?1")
            clear.bind(1, cid)
            try clear.run()
            let count = db.changes
            // The numbers go from the contact history too: retention wins over frequency caps.
            let history = try db.statement("DELETE FROM contact WHERE cid = ?1")
            history.bind(1, cid)
            try history.run()
            // And the identities they were last sent from (sticky sender).
            let memory = try db.statement("DELETE FROM sender_memory WHERE cid = ?1")
            memory.bind(1, cid)
            try memory.run()
            // Receipts keep their type and time; their raw bodies (which name the number) go.
            let raw = try db.statement("UPDATE receipt SET raw = NULL WHERE cid = ?1 AND raw IS NOT NULL")
            raw.bind(1, cid)
            try raw.run()
            let mark = try db.statement("UPDATE campaign SET purged_at = ?2, updated_at = ?2 WHERE cid = ?1")
            mark.bind(1, cid).bind(2, now())
            try mark.run()
            return count
        }
        guard let rows else { return nil }
        try read {
            db.resetAll()
            if vacuum { try db.execute("VACUUM") }
            // Old page images leave the WAL (best effort while another process reads).
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return rows
    }
}
