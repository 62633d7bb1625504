import HeraldCore
import HeraldJournal

/// What `validate` and `estimate` read: progress as the SQLite journal reports it (every
/// line up to `handledThrough` has left `pending`; the waiting ones are listed), spend
/// from the campaign's running total and the month's ledger row, and the suppression list.
extension PostgresJournal: PlanningJournal {
    public func progress(cid: Int64) throws(JournalError) -> JournalProgress {
        let counts = try counts(cid: cid)
        return try attempt {
            let through = try session.query(
                """
                SELECT coalesce((SELECT min(row) - 1 FROM message WHERE cid = \(cid) AND state = \(MessageState.pending)),
                                (SELECT max(row) FROM message WHERE cid = \(cid)), 0)
                """).first?.cells.int(0) ?? 0
            let waiting = try session.query(
                """
                SELECT row
                FROM message
                WHERE cid = \(cid) AND state = \(MessageState.retry) AND row <= \(through)
                ORDER BY row
                """).map { try $0.cells.int(0) }
            return JournalProgress(handledThrough: through, waitingLines: waiting, counts: counts)
        }
    }

    public func spendSoFar(cid: Int64, channel: HeraldCore.Channel) throws(JournalError) -> (campaign: Money, month: Money) {
        let month = BillingMonth.of(milliseconds: currentTime())
        let (campaign, scope) = try attempt { () throws -> (Int64, String) in
            let row = try session.query("SELECT reserved + spent, ledger_scope FROM campaign WHERE cid = \(cid)")
            return (try row.first?.cells.int64(0) ?? 0, try row.first?.cells.string(1) ?? LedgerScope.real.rawValue)
        }
        return (Money(nanos: campaign),
                try monthSpend(month: month, channel: channel, scope: LedgerScope(rawValue: scope) ?? .real))
    }

    public func suppressionChecker(scope: String) throws(JournalError) -> ((UInt64) -> Bool)? {
        let listed = try attempt {
            Set(try session.query("SELECT dest FROM suppression WHERE scope IN ('', \(scope))")
                .map { UInt64(bitPattern: try $0.cells.int64(0)) })
        }
        return listed.isEmpty ? nil : { listed.contains($0) }
    }
}
