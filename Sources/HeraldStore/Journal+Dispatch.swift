/// A message claimed for sending: marked `sending` in a committed transaction.
public struct ClaimedMessage: Sendable {
    public let row: Int
    public let destination: UInt64
    public let body: String
    /// Provider answers already counted for this row.
    public let attempts: Int
}

/// What became of one claimed message.
public struct Settlement: Sendable {
    public var row: Int
    public var state: MessageState
    public var reason: String?
    public var detail: String?
    public var providerRef: String?
    /// For `retry`: not sent again before this time (ms since 1970).
    public var notBefore: Int64?
    /// Whether this answer counts as an attempt (throttling does not).
    public var countsAttempt: Bool

    public init(row: Int, state: MessageState, reason: String? = nil, detail: String? = nil,
                providerRef: String? = nil, notBefore: Int64? = nil, countsAttempt: Bool = true) {
        self.row = row
        self.state = state
        self.reason = reason
        self.detail = detail
        self.providerRef = providerRef
        self.notBefore = notBefore
        self.countsAttempt = countsAttempt
    }
}

/// A cursor over a campaign's pending rows, kept by the sender between steps.
public struct ClaimCursor: Sendable {
    public var afterRow = 0
    public var pendingExhausted = false
    public init() {}
}

extension Journal {
    /// One committed step of a run: settles the previous batch's outcomes, claims up
    /// to `limit` rows (due retries first, then pending rows in file order) and
    /// refreshes the lease, all in one transaction.
    public func step(
        cid: Int64, owner: LeaseOwner, settle settlements: [Settlement], claim limit: Int,
        cursor: inout ClaimCursor, includeRetries: Bool
    ) throws(JournalError) -> [ClaimedMessage] {
        let time = now()
        var localCursor = cursor
        let claimed = try write {
            try settle(cid: cid, settlements, time: time)
            var claimed: [ClaimedMessage] = []
            claimed.reserveCapacity(limit)
            if limit > 0, includeRetries { try claimRetries(cid: cid, limit: limit, time: time, into: &claimed) }
            if claimed.count < limit, !localCursor.pendingExhausted {
                try claimPending(cid: cid, limit: limit - claimed.count, time: time, cursor: &localCursor, into: &claimed)
            }
            try touchLease(cid: cid, owner: owner)
            return claimed
        }
        cursor = localCursor
        return claimed
    }

    private func settle(cid: Int64, _ settlements: [Settlement], time: Int64) throws {
        guard !settlements.isEmpty else { return }
        let update = try db.statement(
            """
            UPDATE message SET state = ?3, reason = ?4, detail = ?5, provider_ref = ?6, not_before = ?7,
                attempts = attempts + ?8, updated_at = ?9
            WHERE cid = ?1 AND row = ?2
            """)
        for item in settlements {
            update.bind(1, cid).bind(2, item.row).bind(3, item.state.rawValue).bind(4, item.reason)
                .bind(5, item.detail).bind(6, item.providerRef).bind(7, item.notBefore)
                .bind(8, item.countsAttempt ? 1 : 0).bind(9, time)
            try update.run()
        }
    }

    private func claimPending(
        cid: Int64, limit: Int, time: Int64, cursor: inout ClaimCursor, into claimed: inout [ClaimedMessage]
    ) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts FROM message
            WHERE cid = ?1 AND row > ?2 AND state = 0 ORDER BY row LIMIT ?3
            """)
        select.bind(1, cid).bind(2, cursor.afterRow).bind(3, limit)
        let first = claimed.count
        while try select.step() {
            claimed.append(ClaimedMessage(row: select.int(0), destination: UInt64(select.int64(1)),
                                          body: select.string(2) ?? "", attempts: select.int(3)))
        }
        select.reset()
        guard claimed.count > first else {
            cursor.pendingExhausted = true
            return
        }
        let mark = try db.statement(
            "UPDATE message SET state = 1, updated_at = ?4 WHERE cid = ?1 AND row BETWEEN ?2 AND ?3 AND state = 0")
        mark.bind(1, cid).bind(2, claimed[first].row).bind(3, claimed[claimed.count - 1].row).bind(4, time)
        try mark.run()
        cursor.afterRow = claimed[claimed.count - 1].row
        if claimed.count - first < limit { cursor.pendingExhausted = true }
    }

    private func claimRetries(cid: Int64, limit: Int, time: Int64, into claimed: inout [ClaimedMessage]) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts FROM message
            WHERE cid = ?1 AND state = 5 AND not_before <= ?2 ORDER BY not_before, row LIMIT ?3
            """)
        select.bind(1, cid).bind(2, time).bind(3, limit)
        var rows: [ClaimedMessage] = []
        while try select.step() {
            rows.append(ClaimedMessage(row: select.int(0), destination: UInt64(select.int64(1)),
                                       body: select.string(2) ?? "", attempts: select.int(3)))
        }
        select.reset()
        let mark = try db.statement("UPDATE message SET state = 1, updated_at = ?3 WHERE cid = ?1 AND row = ?2")
        for row in rows {
            mark.bind(1, cid).bind(2, row.row).bind(3, time)
            try mark.run()
        }
        claimed.append(contentsOf: rows)
    }

    /// When the earliest waiting retry falls due (ms since 1970), or nil when none waits.
    public func nextRetry(cid: Int64) throws(JournalError) -> Int64? {
        try read {
            let statement = try db.statement("SELECT min(not_before) FROM message WHERE cid = ?1 AND state = 5")
            statement.bind(1, cid)
            defer { statement.reset() }
            _ = try statement.step()
            return statement.isNull(0) ? nil : statement.int64(0)
        }
    }
}
