import HeraldCore
import HeraldJournal

import PostgresNIO

/// Frequency caps on PostgreSQL: the journal's message rows are the contact history (a
/// purged campaign's numbers are gone from them: retention wins). A capped campaign's
/// claim counts, for each candidate's number, the rows of every other campaign of its
/// scope sent or being sent in the window, whichever process sends them, through an index
/// of numbers made once per journal. Claims of capped campaigns take one advisory lock, so
/// two capped campaigns never both claim a number that either may still message.
extension PostgresJournal {
    static let capLock: Int32 = 2

    public func prepareFrequencyCap(cid: Int64, cap: FrequencyCap) throws(JournalError) {
        try attempt {
            let scope = try session.query("SELECT ledger_scope FROM campaign WHERE cid = \(cid)")
                .first?.cells.string(0) ?? LedgerScope.real.rawValue
            // Built without blocking senders; a build that failed half-way leaves an invalid
            // index, made again here.
            let valid = try session.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('herald.message_dest')")
                .first?.cells.bool(0)
            if valid == false { try session.query("DROP INDEX CONCURRENTLY IF EXISTS message_dest") }
            if valid != true {
                try session.query(
                    """
                    CREATE INDEX CONCURRENTLY IF NOT EXISTS message_dest ON message (dest)
                    WHERE state IN (\(MessageState.sending), \(MessageState.sent))
                    """)
            }
            caps[cid] = (cap, scope)
        }
    }

    /// Inside a claim: the candidates' numbers that reached the cap, counting every other
    /// campaign's sends and claims in the window (nil for an uncapped campaign).
    func cappedNumbers(cid: Int64, among destinations: [UInt64], time: Int64) throws -> Set<Int64>? {
        guard let (cap, scope) = caps[cid] else { return nil }
        guard !destinations.isEmpty else { return [] }
        try session.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockSpace), \(Self.capLock))")
        var capped: Set<Int64> = []
        for row in try session.query(
            """
            SELECT m.dest, count(*) FROM message AS m JOIN campaign AS c ON c.cid = m.cid
            WHERE m.dest = ANY(\(destinations.map { Int64(bitPattern: $0) })) AND m.state IN (\(MessageState.sending),
                \(MessageState.sent))
                AND m.updated_at > \(time - cap.milliseconds) AND m.cid != \(cid) AND c.ledger_scope = \(scope)
                    AND c.mode != \(literal: RunMode.dryRun)
            GROUP BY m.dest
            """)
        {
            if FrequencyCap.reached(sent: Int(clamping: try row.cells.int64(1)), cap: cap) { capped.insert(try row.cells.int64(0)) }
        }
        return capped
    }
}

extension PostgresJournal {
    /// For `estimate` (read-only): who reached the cap from the other campaigns' rows.
    public func frequencyChecker(campaign id: String, scope: LedgerScope, cap: FrequencyCap) throws(JournalError) -> (UInt64) -> Bool {
        let capped = try attempt {
            Set(try session.query(
                """
                SELECT m.dest FROM message AS m JOIN campaign AS c ON c.cid = m.cid
                WHERE m.state = \(MessageState.sent) AND m.dest IS NOT NULL
                    AND m.updated_at > \(currentTime() - cap.milliseconds) AND c.id != \(id)
                    AND c.ledger_scope = \(scope.rawValue) AND c.mode != \(literal: RunMode.dryRun)
                GROUP BY m.dest HAVING count(*) >= \(cap.messages)
                """).map { UInt64(bitPattern: try $0.cells.int64(0)) })
        }
        return { capped.contains($0) }
    }
}
