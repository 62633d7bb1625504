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
    /// Not sent before this instant: its slot in a rate shared through the journal.
    public var due: ContinuousClock.Instant?

    public init(row: Int, destination: UInt64, body: String, attempts: Int, parts: Int, cost: Int64, month: Int,
                due: ContinuousClock.Instant? = nil) {
        self.row = row
        self.destination = destination
        self.body = body
        self.attempts = attempts
        self.parts = parts
        self.cost = cost
        self.month = month
        self.due = due
    }
}

/// What became of one claimed message.
public struct Settlement: Sendable {
    public var row: Int
    public var state: MessageState
    public var reason: Reason?
    public var detail: String?
    public var providerRef: String?
    /// For `retry`: not sent again before this time (ms since 1970).
    public var notBefore: Int64?
    /// Whether this answer counts as an attempt (throttling does not).
    public var countsAttempt: Bool
    /// The reservation to settle: copied from the claim.
    public var cost: Int64 = 0
    public var month: Int = 0

    public init(row: Int, state: MessageState, reason: Reason? = nil, detail: String? = nil,
                providerRef: String? = nil, notBefore: Int64? = nil, countsAttempt: Bool = true) {
        self.row = row
        self.state = state
        self.reason = reason
        self.detail = detail
        // An empty reference (the simulator's: its receipts name the row) is not stored.
        self.providerRef = providerRef?.isEmpty == true ? nil : providerRef
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
    /// Pending rows are looked for after this line; nil until the first step reads
    /// where the journal says they start.
    public var afterRow: Int?
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
    /// Rows skipped in this step because their number is on the suppression list.
    public var suppressed = 0
    /// Rows skipped in this step because their recipient reached the frequency cap.
    public var capped = 0
    /// Rows put off until their send window opens.
    public var deferred = 0
    /// A pause or cancel request from another process.
    public var control: CampaignControl?

    public init() {}
}

extension Journal {
    /// One committed step of a run: settles the previous batch's outcomes, claims up
    /// to `limit` rows (due retries first, then pending rows in file order) within
    /// the budget, and refreshes the lease, all in one transaction, counters included.
    /// Because the transaction holds the write lock, no other process can reserve the
    /// same budget.
    public func step(
        cid: Int64, owner: LeaseOwner, settle settlements: [Settlement], claim limit: Int,
        cursor: inout ClaimCursor, budget: BudgetContext? = nil, gate: SendGate? = nil, sender: String = ""
    ) throws(JournalError) -> StepResult {
        let time = now()
        var localCursor = cursor
        let result = try write {
            let channel = try budget?.channel ?? channel(cid: cid)
            var changes = TallyChanges()
            if let putBack = try settle(cid: cid, settlements, channel: channel, time: time, changes: &changes) {
                localCursor.afterRow = min(localCursor.afterRow ?? putBack, putBack)
                localCursor.pendingExhausted = false
            }
            if localCursor.afterRow == nil { localCursor.afterRow = try pendingAfter(cid: cid) }
            var claim = try Claim(journal: self, cid: cid, budget: budget, channel: channel, time: time)
            claim.gate = gate
            claim.sender = sender
            claim.suppression = try currentSuppression()
            claim.contacts = contactCheck
            // Nothing new is claimed once a pause or cancel has been asked for.
            claim.result.control = try controlNow(cid: cid)
            let limit = claim.result.control == nil ? limit : 0
            if limit > 0 { try claimRetries(&claim, limit: limit) }
            if claim.result.claimed.count < limit, claim.result.exhausted == nil, !localCursor.pendingExhausted {
                try claimPending(&claim, limit: limit - claim.result.claimed.count, cursor: &localCursor)
            }
            try deferClosed(&claim)
            try adjustLedger(cid: cid, month: claim.month, channel: channel, reserved: claim.reserved, spent: 0)
            changes.merge(claim.changes)
            try apply(changes, cid: cid)
            try touchLease(cid: cid, owner: owner)
            return claim.result
        }
        cursor = localCursor
        return result
    }

    /// The running state of one step's claims: budget totals and counter changes so far.
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
        /// The campaign's sender, for suppressions scoped to one sender.
        var sender = ""
        var suppression: SuppressionCheck?
        /// Set for a campaign with a frequency cap.
        var contacts: ContactCheck?
        var changes = TallyChanges()
        /// Rows whose window is closed, with when it opens and the counter they leave.
        var deferred: [(row: Int, opens: Int64, from: TallyKey)] = []

        /// Whether the row's window is open now; if not, notes it for deferral.
        mutating func windowOpen(row: Int, timeZones: String?, from: TallyKey) -> Bool {
            guard let gate, let opens = gate(timeZones, time) else { return true }
            deferred.append((row, opens, from))
            return false
        }

        init(journal: Journal, cid: Int64, budget: BudgetContext?, channel: Channel, time: Int64) throws {
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
            guard let budget else {
                // No limits to apply; the reservation is still recorded, as every claim's is.
                reserved += cost
                return .admit
            }
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

    /// Records each outcome. A failure that does not prove the message undelivered
    /// leaves a row whose earlier attempt may have got through `in_doubt` (with its
    /// reservation) instead of `failed`. Returns the line before the first row put
    /// back to `pending`, if any was.
    private func settle(cid: Int64, _ settlements: [Settlement], channel: Channel, time: Int64,
                        changes: inout TallyChanges) throws -> Int? {
        guard !settlements.isEmpty else { return nil }
        let sending = MessageState.sending.sql, inDoubt = MessageState.inDoubt.sql
        // Most answers settle the row as they say (?10 marks one that is itself a lost answer).
        let plain = try db.statement(
            """
            UPDATE message SET state = ?3, reason = ?4, detail = ?5, provider_ref = coalesce(?6, provider_ref), not_before = ?7,
                attempts = attempts + ?8, updated_at = ?9, doubt = CASE WHEN ?10 THEN ?4 ELSE doubt END,
                spend_month = CASE WHEN ?3 IN (\(MessageState.sent.sql), \(inDoubt)) THEN spend_month ELSE NULL END
            WHERE cid = ?1 AND row = ?2 AND state = \(sending)
            """)
        // A failure that proves nothing: an earlier doubt stands, with its reservation.
        let weak = try db.statement(
            """
            UPDATE message SET
                state = CASE WHEN doubt IS NOT NULL THEN \(inDoubt) ELSE ?3 END,
                reason = coalesce(doubt, ?4),
                detail = CASE WHEN doubt IS NOT NULL
                    THEN 'an earlier attempt may have been delivered (' || doubt || '); then ' || coalesce(?5, ?4) ELSE ?5 END,
                provider_ref = coalesce(?6, provider_ref), not_before = ?7, attempts = attempts + ?8, updated_at = ?9,
                spend_month = CASE WHEN doubt IS NOT NULL THEN spend_month ELSE NULL END
            WHERE cid = ?1 AND row = ?2 AND state = \(sending)
            RETURNING state, reason
            """)
        var deltas: [Int: (reserved: Int64, spent: Int64)] = [:]
        var putBack: Int?
        var sent = 0
        for item in settlements {
            var state = item.state
            if item.state == .failed, !(item.reason?.provesNotDelivered ?? true) {
                weak.bind(1, cid).bind(2, item.row).bind(3, item.state.rawValue).bind(4, item.reason?.rawValue)
                    .bind(5, item.detail).bind(6, item.providerRef).bind(7, item.notBefore)
                    .bind(8, item.countsAttempt ? 1 : 0).bind(9, time)
                guard try weak.step() else {
                    weak.reset()
                    continue  // not a claimed row: nothing was changed
                }
                state = MessageState(rawValue: weak.int(0)) ?? item.state
                changes.move(from: TallyKey(.sending), to: TallyKey(state, code: weak.string(1)))
                while try weak.step() {}
                weak.reset()
            } else {
                plain.bind(1, cid).bind(2, item.row).bind(3, item.state.rawValue).bind(4, item.reason?.rawValue)
                    .bind(5, item.detail).bind(6, item.providerRef).bind(7, item.notBefore)
                    .bind(8, item.countsAttempt ? 1 : 0).bind(9, time).bind(10, item.reason?.isDoubt == true ? 1 : 0)
                try plain.run()
                guard db.changes == 1 else { continue }
                if state == .sent {
                    sent += 1
                } else {
                    changes.move(from: TallyKey(.sending), to: TallyKey(state, item.reason))
                }
            }
            if state == .pending { putBack = min(putBack ?? item.row, item.row) }
            if item.reason == .optedOut {
                try suppressRecipient(cid: cid, row: item.row, reason: "opted out (provider answer)", source: .optedOut, time: time)
            }
            // In doubt: the reservation stays, the message may have been delivered.
            guard item.cost != 0, state != .inDoubt else { continue }
            // Accepted: the reservation becomes spend. Anything else that settles
            // (failed, retry, back to pending) releases it.
            var delta = deltas[item.month] ?? (0, 0)
            delta.reserved -= item.cost
            if state == .sent { delta.spent += item.cost }
            deltas[item.month] = delta
        }
        changes.move(from: TallyKey(.sending), to: TallyKey(.sent), sent)
        for (month, delta) in deltas {
            try adjustLedger(cid: cid, month: month, channel: channel, reserved: delta.reserved, spent: delta.spent)
        }
        guard let putBack else { return nil }
        let lower = try db.statement("UPDATE campaign SET pending_after = min(pending_after, ?2) WHERE cid = ?1")
        lower.bind(1, cid).bind(2, putBack - 1)
        try lower.run()
        return putBack - 1
    }

    private func claimPending(_ claim: inout Claim, limit: Int, cursor: inout ClaimCursor) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz FROM message
            WHERE cid = ?1 AND row > ?2 AND state = \(MessageState.pending.sql) ORDER BY row LIMIT ?3
            """)
        var after = cursor.afterRow ?? 0
        select.bind(1, claim.cid).bind(2, after).bind(3, limit)
        var examined = 0
        var firstClaimed: Int?
        var lastClaimed: Int?
        var overPrice: [(Int, TallyKey)] = []
        var suppressed: [(Int, TallyKey)] = []
        var capped: [(Int, TallyKey)] = []
        let pending = TallyKey(.pending)
        while try select.step() {
            examined += 1
            let row = select.int(0)
            if try isSuppressed(select, claim) {
                suppressed.append((row, pending))
                after = row
                continue
            }
            if try isCapped(select, claim) {
                capped.append((row, pending))
                after = row
                continue
            }
            if !claim.windowOpen(row: row, timeZones: select.string(6), from: pending) {
                after = row
                continue
            }
            switch claim.decide(cost: select.int64(5)) {
            case .admit:
                claim.result.claimed.append(Self.claimed(select, month: claim.month))
                if firstClaimed == nil { firstClaimed = row }
                lastClaimed = row
                after = row
            case .overMaxPrice:
                overPrice.append((row, pending))
                after = row
            case .exhausted(let kind):
                claim.result.exhausted = kind
            }
            if claim.result.exhausted != nil { break }
        }
        select.reset()
        cursor.afterRow = after
        if examined == 0 || (claim.result.exhausted == nil && examined < limit) { cursor.pendingExhausted = true }
        try skipOverMaxPrice(&claim, rows: overPrice)
        try skipSuppressed(&claim, rows: suppressed)
        try skipCapped(&claim, rows: capped)
        // Deferred rows leave `pending` first, so the range below marks only claimed ones.
        try deferClosed(&claim)
        if let firstClaimed, let lastClaimed {
            let mark = try db.statement(
                """
                UPDATE message SET state = \(MessageState.sending.sql), spend_month = ?5, updated_at = ?4
                WHERE cid = ?1 AND row BETWEEN ?2 AND ?3 AND state = \(MessageState.pending.sql)
                """)
            mark.bind(1, claim.cid).bind(2, firstClaimed).bind(3, lastClaimed).bind(4, claim.time).bind(5, claim.month)
            try mark.run()
            claim.changes.move(from: pending, to: TallyKey(.sending), db.changes)
        }
        // Every row up to here has left `pending`: the next run starts after it.
        let mark = try db.statement("UPDATE campaign SET pending_after = ?2 WHERE cid = ?1")
        mark.bind(1, claim.cid).bind(2, after)
        try mark.run()
    }

    private func claimRetries(_ claim: inout Claim, limit: Int) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz, reason FROM \(MessageState.retry.table)
            WHERE cid = ?1 AND state = \(MessageState.retry.sql) AND not_before <= ?2 ORDER BY not_before, row LIMIT ?3
            """)
        select.bind(1, claim.cid).bind(2, claim.time).bind(3, limit)
        var rows: [ClaimedMessage] = []
        var overPrice: [(Int, TallyKey)] = []
        var suppressed: [(Int, TallyKey)] = []
        var capped: [(Int, TallyKey)] = []
        while try select.step() {
            let from = TallyKey(.retry, code: select.string(7))
            if try isSuppressed(select, claim) {
                suppressed.append((select.int(0), from))
                continue
            }
            if try isCapped(select, claim) {
                capped.append((select.int(0), from))
                continue
            }
            if !claim.windowOpen(row: select.int(0), timeZones: select.string(6), from: from) { continue }
            switch claim.decide(cost: select.int64(5)) {
            case .admit:
                rows.append(Self.claimed(select, month: claim.month))
                claim.changes.move(from: from, to: TallyKey(.sending))
            case .overMaxPrice: overPrice.append((select.int(0), from))
            case .exhausted(let kind): claim.result.exhausted = kind
            }
            if claim.result.exhausted != nil { break }
        }
        select.reset()
        try skipOverMaxPrice(&claim, rows: overPrice)
        try skipSuppressed(&claim, rows: suppressed)
        try skipCapped(&claim, rows: capped)
        let mark = try db.statement(
            "UPDATE message SET state = \(MessageState.sending.sql), spend_month = ?4, updated_at = ?3 WHERE cid = ?1 AND row = ?2")
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
            """
            UPDATE message SET state = \(MessageState.retry.sql), reason = '\(Reason.window.rawValue)', detail = NULL,
                not_before = ?3, updated_at = ?4
            WHERE cid = ?1 AND row = ?2
            """)
        let window = TallyKey(.retry, .window)
        for item in claim.deferred {
            wait.bind(1, claim.cid).bind(2, item.row).bind(3, item.opens).bind(4, claim.time)
            try wait.run()
            claim.changes.move(from: item.from, to: window)
        }
        claim.result.deferred += claim.deferred.count
        claim.deferred = []
    }

    /// Rows whose message costs more than MaxPrice: skipped, the run goes on.
    private func skipOverMaxPrice(_ claim: inout Claim, rows: [(row: Int, from: TallyKey)]) throws {
        try skip(&claim, rows: rows, reason: .maxPrice, detail: "'costs ' || printf('%.9f', cost / 1e9) || ' USD, more than max_price'")
        claim.result.overMaxPrice += rows.count
    }

    /// Rows whose number is on the suppression list: skipped when claimed, so a number
    /// listed while the campaign runs is honoured from the next claim on.
    private func skipSuppressed(_ claim: inout Claim, rows: [(row: Int, from: TallyKey)]) throws {
        try skip(&claim, rows: rows, reason: .suppressed, detail: "'the number is on the suppression list'")
        claim.result.suppressed += rows.count
    }

    /// Rows whose recipient already got the campaign's frequency cap of messages.
    private func skipCapped(_ claim: inout Claim, rows: [(row: Int, from: TallyKey)]) throws {
        try skip(&claim, rows: rows, reason: .frequencyCap, detail: "'the recipient reached the frequency cap'")
        claim.result.capped += rows.count
    }

    /// Whether the row under `select` (column 1: its number) reached the frequency cap.
    private func isCapped(_ select: Statement, _ claim: Claim) throws -> Bool {
        guard let check = claim.contacts else { return false }
        return try isCapped(UInt64(bitPattern: select.int64(1)), check: check, now: claim.time)
    }

    /// Whether the row under `select` (column 1: its number) is suppressed.
    private func isSuppressed(_ select: Statement, _ claim: Claim) throws -> Bool {
        guard let check = claim.suppression else { return false }
        return try isSuppressed(UInt64(bitPattern: select.int64(1)), scope: claim.sender, check: check)
    }

    /// Skips rows for a reason decided at claim time; `detail` is an SQL expression.
    private func skip(_ claim: inout Claim, rows: [(row: Int, from: TallyKey)], reason: Reason, detail: String) throws {
        guard !rows.isEmpty else { return }
        let skip = try db.statement(
            """
            UPDATE message SET state = \(MessageState.skipped.sql), reason = '\(reason.rawValue)', not_before = NULL,
                detail = \(detail), updated_at = ?3
            WHERE cid = ?1 AND row = ?2
            """)
        let skipped = TallyKey(.skipped, reason)
        for item in rows {
            skip.bind(1, claim.cid).bind(2, item.row).bind(3, claim.time)
            try skip.run()
            claim.changes.move(from: item.from, to: skipped)
        }
    }

    private static func claimed(_ select: Statement, month: Int) -> ClaimedMessage {
        ClaimedMessage(row: select.int(0), destination: UInt64(select.int64(1)), body: select.string(2) ?? "",
                       attempts: select.int(3), parts: select.int(4), cost: select.int64(5), month: month)
    }

    /// When the earliest waiting retry falls due (ms since 1970), or nil when none waits.
    public func nextRetry(cid: Int64) throws(JournalError) -> Int64? {
        try read {
            let statement = try db.statement(
                "SELECT min(not_before) FROM \(MessageState.retry.table) WHERE cid = ?1 AND state = \(MessageState.retry.sql)")
            statement.bind(1, cid)
            defer { statement.reset() }
            _ = try statement.step()
            return statement.isNull(0) ? nil : statement.int64(0)
        }
    }
}
