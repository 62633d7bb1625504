import HeraldCore
import HeraldJournal

extension Journal {
    /// Reserved plus spent, all months, for one campaign.
    func campaignSpent(cid: Int64) throws -> Int64 {
        let statement = try db.statement("SELECT coalesce(sum(reserved + spent), 0) FROM ledger WHERE cid = ?1")
        statement.bind(1, cid)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int64(0)
    }

    /// Reserved plus spent in one month and channel by every campaign of the same
    /// ledger scope (simulated campaigns never eat into a real monthly budget).
    func monthSpent(month: Int, channel: Channel, scope: LedgerScope) throws -> Int64 {
        let statement = try db.statement(
            """
            SELECT coalesce(sum(l.reserved + l.spent), 0) FROM ledger l JOIN campaign c ON c.cid = l.cid
            WHERE l.month = ?1 AND l.channel = ?2 AND c.ledger_scope = ?3
            """)
        statement.bind(1, month).bind(2, channel.rawValue).bind(3, scope.rawValue)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int64(0)
    }

    func ledgerScope(cid: Int64) throws -> LedgerScope {
        try campaignValue("ledger_scope", cid: cid) { LedgerScope(rawValue: $0.string(0) ?? "") ?? .real }
    }

    /// Adds deltas to one ledger row, creating it when new.
    /// Applies a transaction's ledger changes, month by month.
    func adjustLedger(cid: Int64, channel: Channel, _ deltas: LedgerDeltas) throws {
        for delta in deltas.deltas {
            try adjustLedger(cid: cid, month: delta.month, channel: channel, reserved: delta.reserved, spent: delta.spent)
        }
    }

    func adjustLedger(cid: Int64, month: Int, channel: Channel, reserved: Int64, spent: Int64) throws {
        guard reserved != 0 || spent != 0 else { return }
        let statement = try db.statement(
            """
            INSERT INTO ledger (cid, month, channel, reserved, spent) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (cid, month, channel) DO UPDATE SET reserved = reserved + ?4, spent = spent + ?5
            """)
        statement.bind(1, cid).bind(2, month).bind(3, channel.rawValue).bind(4, reserved).bind(5, spent)
        try statement.run()
    }

    func channel(cid: Int64) throws -> Channel {
        try campaignValue("channel", cid: cid) { Channel(rawValue: $0.string(0) ?? "") ?? .sms }
    }

    /// The campaign's ledger, month by month.
    public func ledger(cid: Int64) throws(JournalError) -> [LedgerEntry] {
        try read {
            let statement = try db.statement(
                "SELECT month, channel, reserved, spent FROM ledger WHERE cid = ?1 ORDER BY month, channel")
            statement.bind(1, cid)
            var entries: [LedgerEntry] = []
            while try statement.step() {
                entries.append(LedgerEntry(month: statement.int(0), channel: statement.string(1) ?? "",
                                           reserved: Money(nanos: statement.int64(2)), spent: Money(nanos: statement.int64(3))))
            }
            statement.reset()
            return entries
        }
    }

    /// Spend in one month and channel across campaigns of a scope (for `status`).
    public func monthSpend(month: Int, channel: Channel, scope: LedgerScope) throws(JournalError) -> Money {
        try read { Money(nanos: try monthSpent(month: month, channel: channel, scope: scope)) }
    }
}
