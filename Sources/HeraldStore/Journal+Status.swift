import HeraldCore

/// Counts of a campaign's rows by state and by skip/failure reason.
public struct CampaignCounts: Sendable {
    public var byState: [MessageState: Int] = [:]
    public var byReason: [String: Int] = [:]
    public var total: Int { byState.values.reduce(0, +) }
    public subscript(state: MessageState) -> Int { byState[state] ?? 0 }
    /// Rows that still need a send (or a decision, for in-doubt rows).
    public var open: Int { self[.pending] + self[.sending] + self[.retry] + self[.inDoubt] }
}

/// A row in doubt or failed, for `status` to list (no phone number, only the line).
public struct RowNote: Sendable {
    public let row: Int
    public let state: MessageState
    public let reason: String?
    public let detail: String?
}

extension Journal {
    public func counts(cid: Int64) throws(JournalError) -> CampaignCounts {
        try read {
            var counts = CampaignCounts()
            let byState = try db.statement("SELECT state, count(*) FROM message WHERE cid = ?1 GROUP BY state")
            byState.bind(1, cid)
            while try byState.step() {
                if let state = MessageState(rawValue: byState.int(0)) { counts.byState[state] = byState.int(1) }
            }
            byState.reset()
            let byReason = try db.statement(
                "SELECT reason, count(*) FROM message WHERE cid = ?1 AND state IN (3, 4) GROUP BY reason")
            byReason.bind(1, cid)
            while try byReason.step() { counts.byReason[byReason.string(0) ?? "unknown", default: 0] += byReason.int(1) }
            byReason.reset()
            return counts
        }
    }

    /// Up to `limit` rows in the given states, in file order.
    public func rows(cid: Int64, in states: [MessageState], limit: Int) throws(JournalError) -> [RowNote] {
        try read {
            let list = states.map { String($0.rawValue) }.joined(separator: ",")
            let statement = try db.statement(
                "SELECT row, state, reason, detail FROM message WHERE cid = ?1 AND state IN (\(list)) ORDER BY row LIMIT ?2")
            statement.bind(1, cid).bind(2, limit)
            var notes: [RowNote] = []
            while try statement.step() {
                notes.append(RowNote(row: statement.int(0), state: MessageState(rawValue: statement.int(1)) ?? .pending,
                                     reason: statement.string(2), detail: statement.string(3)))
            }
            statement.reset()
            return notes
        }
    }
}

extension Journal {
    /// CSV lines of rows already sent, or possibly sent (in flight or in doubt): an
    /// estimate leaves them out.
    public func lines(cid: Int64, in states: [MessageState]) throws(JournalError) -> Set<Int> {
        try read {
            let list = states.map { String($0.rawValue) }.joined(separator: ",")
            let statement = try db.statement("SELECT row FROM message WHERE cid = ?1 AND state IN (\(list))")
            statement.bind(1, cid)
            var lines = Set<Int>()
            while try statement.step() { lines.insert(statement.int(0)) }
            statement.reset()
            return lines
        }
    }

    /// Reserved plus spent by one campaign, and by its scope this month in a channel.
    public func spendSoFar(cid: Int64, channel: String) throws(JournalError) -> (campaign: Money, month: Money) {
        try read {
            let month = BillingMonth.of(milliseconds: now())
            return (Money(nanos: try campaignSpent(cid: cid)),
                    Money(nanos: try monthSpent(month: month, channel: channel, scope: try ledgerScope(cid: cid))))
        }
    }
}
