import HeraldCore

/// A message claimed for sending: marked `sending` in a committed transaction,
/// its cost reserved in the ledger.
public struct ClaimedMessage: Sendable {
    public let row: Int
    public let destination: UInt64
    public let body: String
    /// Provider answers already counted for this row.
    public let attempts: Int
    public let parts: Int
    /// Cost reserved for it (nano-dollars) and the month it was reserved in.
    public let cost: Int64
    public let month: Int
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
    /// The reservation to settle: copied from the claim.
    public var cost: Int64 = 0
    public var month: Int = 0

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

    /// The same outcome, carrying the claim's reservation.
    public func settling(_ claim: ClaimedMessage) -> Settlement {
        var copy = self
        copy.cost = claim.cost
        copy.month = claim.month
        return copy
    }
}

/// A cursor over a campaign's pending rows, kept by the sender between steps.
public struct ClaimCursor: Sendable {
    public var afterRow = 0
    public var pendingExhausted = false
    public init() {}
}

/// Decides whether a row may be sent now given its time zone(s): nil when its send
/// window is open, else when it opens (ms since 1970). Called on the journal's thread.
public typealias SendGate = (_ timeZones: String?, _ now: Int64) -> Int64?

/// What one step claimed, and whether the budget stopped it from claiming more.
public struct StepResult: Sendable {
    public var claimed: [ClaimedMessage] = []
    /// Set when the next message would pass this limit.
    public var exhausted: BudgetLimitKind?
    /// Rows skipped in this step because they cost more than MaxPrice.
    public var overMaxPrice = 0
    /// Rows put off until their send window opens.
    public var deferred = 0
    /// A pause or cancel request from another process.
    public var control: CampaignControl?

    public init() {}
}

extension Journal {
    /// One committed step of a run: settles the previous batch's outcomes, claims up
    /// to `limit` rows (due retries first, then pending rows in file order) within
    /// the budget, and refreshes the lease, all in one transaction. Because the
    /// transaction holds the write lock, no other process can reserve the same budget.
    public func step(
        cid: Int64, owner: LeaseOwner, settle settlements: [Settlement], claim limit: Int,
        cursor: inout ClaimCursor, budget: BudgetContext? = nil, gate: SendGate? = nil
    ) throws(JournalError) -> StepResult {
        let time = now()
        var localCursor = cursor
        let result = try write {
            let channel = try budget?.channel ?? channel(cid: cid)
            try settle(cid: cid, settlements, channel: channel, time: time)
            var claim = try Claim(journal: self, cid: cid, budget: budget, channel: channel, time: time)
            claim.gate = gate
            // Nothing new is claimed once a pause or cancel has been asked for.
            claim.result.control = try controlNow(cid: cid)
            let limit = claim.result.control == nil ? limit : 0
            if limit > 0 { try claimRetries(&claim, limit: limit) }
            if claim.result.claimed.count < limit, claim.result.exhausted == nil, !localCursor.pendingExhausted {
                try claimPending(&claim, limit: limit - claim.result.claimed.count, cursor: &localCursor)
            }
            try deferClosed(&claim)
            try adjustLedger(cid: cid, month: claim.month, channel: channel, reserved: claim.reserved, spent: 0)
            try touchLease(cid: cid, owner: owner)
            return claim.result
        }
        cursor = localCursor
        return result
    }

    /// The running state of one step's claims: budget totals so far.
    struct Claim {
        let cid: Int64
        let budget: BudgetContext?
        let time: Int64
        let month: Int
        var campaignSpent: Int64 = 0
        var monthSpent: Int64 = 0
        var reserved: Int64 = 0
        var result = StepResult()
        var gate: SendGate?
        /// Rows whose window is closed, with when it opens.
        var deferred: [(row: Int, opens: Int64)] = []

        /// Whether the row's window is open now; if not, notes it for deferral.
        mutating func windowOpen(row: Int, timeZones: String?) -> Bool {
            guard let gate, let opens = gate(timeZones, time) else { return true }
            deferred.append((row, opens))
            return false
        }

        init(journal: Journal, cid: Int64, budget: BudgetContext?, channel: String, time: Int64) throws {
            self.cid = cid
            self.budget = budget
            self.time = time
            month = BillingMonth.of(milliseconds: time)
            if let budget, !budget.limits.isEmpty {
                campaignSpent = try journal.campaignSpent(cid: cid)
                monthSpent = try journal.monthSpent(month: month, channel: channel, scope: try journal.ledgerScope(cid: cid))
            }
        }

        /// Budget decision for the next row; admits it into the running totals.
        mutating func decide(cost: Int64) -> BudgetDecision {
            guard let budget else { return .admit }
            let decision = budget.limits.decide(
                cost: Money(nanos: cost), campaignSpent: Money(nanos: campaignSpent), monthSpent: Money(nanos: monthSpent))
            if decision == .admit {
                campaignSpent += cost
                monthSpent += cost
                reserved += cost
            }
            return decision
        }
    }

    private func settle(cid: Int64, _ settlements: [Settlement], channel: String, time: Int64) throws {
        guard !settlements.isEmpty else { return }
        let update = try db.statement(
            """
            UPDATE message SET state = ?3, reason = ?4, detail = ?5, provider_ref = ?6, not_before = ?7,
                attempts = attempts + ?8, updated_at = ?9,
                spend_month = CASE WHEN ?3 IN (2, 6) THEN spend_month ELSE NULL END
            WHERE cid = ?1 AND row = ?2
            """)
        var deltas: [Int: (reserved: Int64, spent: Int64)] = [:]
        for item in settlements {
            update.bind(1, cid).bind(2, item.row).bind(3, item.state.rawValue).bind(4, item.reason)
                .bind(5, item.detail).bind(6, item.providerRef).bind(7, item.notBefore)
                .bind(8, item.countsAttempt ? 1 : 0).bind(9, time)
            try update.run()
            // In doubt: the reservation stays, the message may have been delivered.
            guard item.cost != 0, item.state != .inDoubt else { continue }
            // Accepted: the reservation becomes spend. Anything else that settles
            // (failed, retry, back to pending) releases it.
            var delta = deltas[item.month] ?? (0, 0)
            delta.reserved -= item.cost
            if item.state == .sent { delta.spent += item.cost }
            deltas[item.month] = delta
        }
        for (month, delta) in deltas {
            try adjustLedger(cid: cid, month: month, channel: channel, reserved: delta.reserved, spent: delta.spent)
        }
    }

    private func claimPending(_ claim: inout Claim, limit: Int, cursor: inout ClaimCursor) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz FROM message
            WHERE cid = ?1 AND row > ?2 AND state = 0 ORDER BY row LIMIT ?3
            """)
        select.bind(1, claim.cid).bind(2, cursor.afterRow).bind(3, limit)
        var examined = 0
        var firstClaimed: Int?
        var lastClaimed: Int?
        var overPrice: [Int] = []
        while try select.step() {
            examined += 1
            if !claim.windowOpen(row: select.int(0), timeZones: select.string(6)) {
                cursor.afterRow = select.int(0)
                continue
            }
            let cost = select.int64(5)
            switch claim.decide(cost: cost) {
            case .admit:
                let message = Self.claimed(select, month: claim.month)
                claim.result.claimed.append(message)
                if firstClaimed == nil { firstClaimed = message.row }
                lastClaimed = message.row
                cursor.afterRow = message.row
            case .overMaxPrice:
                overPrice.append(select.int(0))
                cursor.afterRow = select.int(0)
            case .exhausted(let kind):
                claim.result.exhausted = kind
            }
            if claim.result.exhausted != nil { break }
        }
        select.reset()
        if examined == 0 || (claim.result.exhausted == nil && examined < limit) { cursor.pendingExhausted = true }
        try skipOverMaxPrice(&claim, rows: overPrice)
        // Deferred rows leave state 0 first, so the range below marks only claimed ones.
        try deferClosed(&claim)
        if let firstClaimed, let lastClaimed {
            let mark = try db.statement(
                """
                UPDATE message SET state = 1, spend_month = ?5, updated_at = ?4
                WHERE cid = ?1 AND row BETWEEN ?2 AND ?3 AND state = 0
                """)
            mark.bind(1, claim.cid).bind(2, firstClaimed).bind(3, lastClaimed).bind(4, claim.time).bind(5, claim.month)
            try mark.run()
        }
    }

    private func claimRetries(_ claim: inout Claim, limit: Int) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz FROM message
            WHERE cid = ?1 AND state = 5 AND not_before <= ?2 ORDER BY not_before, row LIMIT ?3
            """)
        select.bind(1, claim.cid).bind(2, claim.time).bind(3, limit)
        var rows: [ClaimedMessage] = []
        var overPrice: [Int] = []
        while try select.step() {
            if !claim.windowOpen(row: select.int(0), timeZones: select.string(6)) { continue }
            switch claim.decide(cost: select.int64(5)) {
            case .admit: rows.append(Self.claimed(select, month: claim.month))
            case .overMaxPrice: overPrice.append(select.int(0))
            case .exhausted(let kind): claim.result.exhausted = kind
            }
            if claim.result.exhausted != nil { break }
        }
        select.reset()
        try skipOverMaxPrice(&claim, rows: overPrice)
        let mark = try db.statement(
            "UPDATE message SET state = 1, spend_month = ?4, updated_at = ?3 WHERE cid = ?1 AND row = ?2")
        for row in rows {
            mark.bind(1, claim.cid).bind(2, row.row).bind(3, claim.time).bind(4, claim.month)
            try mark.run()
        }
        claim.result.claimed.append(contentsOf: rows)
    }

    /// Rows outside their send window wait (as `retry`, reason `window`) until it opens.
    private func deferClosed(_ claim: inout Claim) throws {
        guard !claim.deferred.isEmpty else { return }
        let wait = try db.statement(
            "UPDATE message SET state = 5, reason = 'window', detail = NULL, not_before = ?3, updated_at = ?4 WHERE cid = ?1 AND row = ?2")
        for item in claim.deferred {
            wait.bind(1, claim.cid).bind(2, item.row).bind(3, item.opens).bind(4, claim.time)
            try wait.run()
        }
        claim.result.deferred += claim.deferred.count
        claim.deferred = []
    }

    /// Rows whose message costs more than MaxPrice: skipped, the run goes on.
    private func skipOverMaxPrice(_ claim: inout Claim, rows: [Int]) throws {
        guard !rows.isEmpty else { return }
        let skip = try db.statement(
            """
            UPDATE message SET state = 4, reason = 'max_price', not_before = NULL,
                detail = 'costs ' || printf('%.9f', cost / 1e9) || ' USD, more than max_price', updated_at = ?3
            WHERE cid = ?1 AND row = ?2
            """)
        for row in rows {
            skip.bind(1, claim.cid).bind(2, row).bind(3, claim.time)
            try skip.run()
        }
        claim.result.overMaxPrice += rows.count
    }

    private static func claimed(_ select: Statement, month: Int) -> ClaimedMessage {
        ClaimedMessage(row: select.int(0), destination: UInt64(select.int64(1)), body: select.string(2) ?? "",
                       attempts: select.int(3), parts: select.int(4), cost: select.int64(5), month: month)
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
