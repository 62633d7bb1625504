import HeraldCore
import HeraldJournal

extension Journal {
    /// Up to `limit` rows in one state, in file order. Reads an index for the states
    /// that hold few rows (sending, in doubt, failed).
    public func rows(cid: Int64, in state: MessageState, limit: Int) throws(JournalError) -> [RowNote] {
        try read {
            let statement = try db.statement(
                "SELECT row, reason, detail FROM \(state.table) WHERE cid = ?1 AND state = \(state.sql) ORDER BY row LIMIT ?2")
            statement.bind(1, cid).bind(2, limit)
            var notes: [RowNote] = []
            while try statement.step() {
                notes.append(RowNote(row: statement.int(0), state: state, reason: statement.string(1).flatMap(Reason.init),
                                     detail: statement.string(2)))
            }
            statement.reset()
            return notes
        }
    }

    public func finalReceipts(cid: Int64, rows: [Int]) throws(JournalError) -> [Int: Int64] {
        try read {
            let select = try db.statement(
                "SELECT event_at FROM delivery WHERE cid = ?1 AND row = ?2 AND state != '\(DeliveryState.pending.rawValue)' AND event_at IS NOT NULL")
            var found: [Int: Int64] = [:]
            for row in rows {
                select.bind(1, cid).bind(2, row)
                if try select.step() { found[row] = select.int64(0) }
                select.reset()
            }
            return found
        }
    }

    public func senderTotals(cid: Int64) throws(JournalError) -> [SenderTotals] {
        try read {
            let statement = try db.statement(
                "SELECT route, sender, state, count(*) FROM message WHERE cid = ?1 AND sender IS NOT NULL GROUP BY route, sender, state")
            statement.bind(1, cid)
            var groups: [(route: Int64, sender: Int64, state: Int, count: Int)] = []
            while try statement.step() { groups.append((statement.int64(0), statement.int64(1), statement.int(2), statement.int(3))) }
            statement.reset()
            return SenderTotals.collect(groups)
        }
    }

    public func routeTotals(cid: Int64) throws(JournalError) -> [RouteTotals] {
        let groups = try totals(cid: cid, by: "m.route")
        return RouteTotals.collect(groups, fellBack: try read {
            let statement = try db.statement(
                """
                SELECT from_route, CAST(max(min(total(spent), 9.0e18), -9.0e18) AS INTEGER) FROM route_switch
                WHERE cid = ?1 AND spent IS NOT NULL GROUP BY from_route
                """)
            statement.bind(1, cid)
            defer { statement.reset() }
            var found: [(route: Int64, cost: Int64)] = []
            while try statement.step() { found.append((statement.int64(0), statement.int64(1))) }
            return found
        })
    }

    public func languageTotals(cid: Int64) throws(JournalError) -> [LanguageTotals] {
        LanguageTotals.collect(try totals(cid: cid, by: "m.language"))
    }

    /// Rows, cost and receipts of a campaign grouped by `key` (a column of `message AS m`) and state.
    private func totals(cid: Int64, by key: String) throws(JournalError) -> [RowTotalsGroup] {
        try read {
            let statement = try db.statement(
                """
                SELECT CAST(\(key) AS TEXT), m.state, count(*), CAST(max(min(total(m.cost), 9.0e18), -9.0e18) AS INTEGER),
                    count(*) FILTER (WHERE d.state IN ('\(DeliveryState.delivered.rawValue)', '\(DeliveryState.fallback.rawValue)')),
                    count(*) FILTER (WHERE d.state IN ('\(DeliveryState.undelivered.rawValue)', '\(DeliveryState.expired.rawValue)',
                                                     '\(DeliveryState.unknown.rawValue)'))
                FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
                WHERE m.cid = ?1 GROUP BY \(key), m.state
                """)
            statement.bind(1, cid)
            var groups: [RowTotalsGroup] = []
            while try statement.step() {
                // total() never overflows; clamped in SQL, so a hand-edited journal cannot trap this.
                groups.append((statement.string(0), statement.int(1), statement.int(2), statement.int64(3), statement.int(4),
                               statement.int(5)))
            }
            statement.reset()
            return groups
        }
    }

    public func routeSwitches(cid: Int64) throws(JournalError) -> [RouteSwitchSummary] {
        try read {
            let statement = try db.statement(
                """
                SELECT from_route, to_route, reason, count(*), min(at), max(at) FROM route_switch WHERE cid = ?1
                GROUP BY from_route, to_route, reason ORDER BY from_route, to_route, reason
                """)
            statement.bind(1, cid)
            var switches: [RouteSwitchSummary] = []
            while try statement.step() {
                switches.append(RouteSwitchSummary(from: RouteIndex.checked(statement.int64(0)), to: RouteIndex.checked(statement.int64(1)),
                                                   reason: statement.string(2) ?? "", rows: statement.int(3),
                                                   first: statement.int64(4), last: statement.int64(5)))
            }
            statement.reset()
            return switches
        }
    }

    /// Where the campaign stands, for an estimate of what is left.
    public func progress(cid: Int64) throws(JournalError) -> JournalProgress {
        try read {
            let after = try pendingAfter(cid: cid)
            let waiting = try db.statement(
                "SELECT row FROM \(MessageState.retry.table) WHERE cid = ?1 AND state = \(MessageState.retry.sql)")
            waiting.bind(1, cid)
            var lines: [Int] = []
            while try waiting.step() { lines.append(waiting.int(0)) }
            waiting.reset()
            return JournalProgress(handledThrough: after, waitingLines: lines.sorted(), counts: try countsNow(cid: cid))
        }
    }

    /// Reserved plus spent by one campaign, and by its scope this month in a channel.
    public func spendSoFar(cid: Int64, channel: Channel) throws(JournalError) -> (campaign: Money, month: Money) {
        try read {
            let month = BillingMonth.of(milliseconds: now())
            return (Money(nanos: try campaignSpent(cid: cid)),
                    Money(nanos: try monthSpent(month: month, channel: channel, scope: try ledgerScope(cid: cid))))
        }
    }
}
