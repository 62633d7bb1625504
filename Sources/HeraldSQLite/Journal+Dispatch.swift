import HeraldCore
import HeraldJournal

extension Journal {
    /// One committed step of a run: settles the previous batch's outcomes, claims up
    /// to `limit` rows (due retries first, then pending rows in file order) within
    /// the budget, and refreshes the lease, all in one transaction, counters included.
    /// Because the transaction holds the write lock, no other process can reserve the
    /// same budget. What happens to each row is decided by the journal's rules
    /// (`Settlement.change`, `ClaimPlan`); this only reads facts and applies changes.
    public func step(
        cid: Int64, owner: LeaseOwner, settle settlements: [Settlement], claim limit: Int,
        cursor: inout ClaimCursor, budget: BudgetContext? = nil, gate: SendGate? = nil, sender: SenderScopes = ""
    ) throws(JournalError) -> StepResult {
        let time = now()
        var localCursor = cursor
        let result: StepResult
        do {
            result = try stepOnce(cid: cid, owner: owner, settlements: settlements, limit: limit, cursor: &localCursor,
                                  budget: budget, gate: gate, sender: sender, time: time)
        } catch where error.isLeaseConflict {
            // Fencing: nothing this sender reports is recorded, but an accepted answer is
            // still evidence: its row, in doubt or waiting since the takeover, was accepted.
            try settleLateAcceptances(cid: cid, settlements.filter { $0.state == .sent })
            throw error
        }
        cursor = localCursor
        return result
    }

    private func stepOnce(cid: Int64, owner: LeaseOwner, settlements: [Settlement], limit: Int, cursor localCursor: inout ClaimCursor,
                          budget: BudgetContext?, gate: SendGate?, sender: SenderScopes, time: Int64) throws(JournalError) -> StepResult {
        try write {
            try checkHolder(cid: cid, owner: owner)
            let channel = try budget?.channel ?? channel(cid: cid)
            var changes = TallyChanges()
            var ledger = LedgerDeltas()
            var report = ReportCounters()
            if let putBack = try settle(cid: cid, settlements, time: time, changes: &changes, ledger: &ledger, report: &report) {
                localCursor.afterRow = min(localCursor.afterRow ?? putBack, putBack)
                localCursor.pendingExhausted = false
            }
            // Settled first: what it released may be claimed again in this step.
            try adjustLedger(cid: cid, channel: channel, ledger)
            if localCursor.afterRow == nil { localCursor.afterRow = try pendingAfter(cid: cid) }
            var plan = try claimPlan(cid: cid, budget: budget, channel: channel, time: time, gate: gate)
            if sender.hasPools {
                plan.usePools(sender, used: try senderUse(day: SenderChoice.day(of: time)), countsParts: channel == .sms,
                              remembers: try ledgerScope(cid: cid) == .real)
            }
            if let contacts = contactCheck { try refreshLiveContacts(contacts) }
            let facts = ClaimFacts(cid: cid, sender: sender, suppression: try currentSuppression(), contacts: contactCheck)
            var result = StepResult()
            // Nothing new is claimed once a pause or cancel has been asked for.
            result.control = try controlNow(cid: cid)
            let limit = result.control == nil ? limit : 0
            if limit > 0 { try claimRetries(&plan, facts, limit: limit, into: &result.claimed) }
            if result.claimed.count < limit, plan.exhausted == nil, !localCursor.pendingExhausted {
                try claimPending(&plan, facts, limit: limit - result.claimed.count, cursor: &localCursor, into: &result.claimed)
            }
            plan.record(into: &result)
            try recordSenders(plan, cid: cid)
            try remember(plan.remembering, cid: cid, time: time)
            try adjustLedger(cid: cid, month: plan.month, channel: channel, reserved: plan.reserved, spent: 0)
            changes.merge(plan.tally)
            try apply(changes, cid: cid)
            report.merge(plan.report)
            try apply(report, cid: cid)
            try touchLease(cid: cid, owner: owner)
            return result
        }
    }

    /// Fencing on this journal: one lease per campaign at a time, so a step from a process
    /// whose lease another took over (a holder on another host, silent for 30 s) records
    /// nothing, its outcomes included, and says who holds the campaign now (exit 5).
    private func checkHolder(cid: Int64, owner: LeaseOwner) throws {
        let statement = try db.statement("SELECT id, mode, lease_token, lease_pid, lease_host FROM campaign WHERE cid = ?1")
        statement.bind(1, cid)
        defer { statement.reset() }
        guard try statement.step(), let token = statement.string(2), token != owner.token else { return }
        let name = CampaignKey(id: statement.string(0) ?? "", mode: RunMode(rawValue: statement.string(1) ?? "") ?? .real)
        throw JournalError(.leased(campaign: name.description, pid: statement.int(3), host: statement.string(4) ?? "?"), path: path)
    }

    /// What a claim checks each candidate against, besides the plan's budget and windows.
    struct ClaimFacts {
        let cid: Int64
        /// The campaign's sender, for suppressions scoped to one sender.
        let sender: SenderScopes
        let suppression: SuppressionCheck?
        /// Set for a campaign with a frequency cap.
        let contacts: ContactCheck?
    }

    /// The claim rule with this step's facts: the spend so far, read only with limits.
    private func claimPlan(cid: Int64, budget: BudgetContext?, channel: Channel, time: Int64, gate: SendGate?) throws -> ClaimPlan {
        guard ClaimPlan.needsSpend(budget) else { return ClaimPlan(budget: budget, time: time, gate: gate) }
        let month = BillingMonth.of(milliseconds: time)
        return ClaimPlan(budget: budget, campaignSpent: try campaignSpent(cid: cid),
                         monthSpent: try monthSpent(month: month, channel: channel, scope: try ledgerScope(cid: cid)),
                         time: time, gate: gate)
    }

    /// Each capped identity's units on `day`, by identity key.
    private func senderUse(day: Int) throws -> [String: Int] {
        let select = try db.statement("SELECT identity, used FROM sender_day WHERE day = ?1")
        select.bind(1, day)
        defer { select.reset() }
        var used: [String: Int] = [:]
        while try select.step() { if let key = select.string(0) { used[key] = select.int(1) } }
        return used
    }

    /// The identity chosen for each claimed row, on the row; what they take from each
    /// identity's day, in `sender_day`.
    private func recordSenders(_ plan: ClaimPlan, cid: Int64) throws {
        guard let choice = plan.senderChoice else { return }
        if !plan.senders.isEmpty {
            let mark = try db.statement("UPDATE message SET sender = ?3 WHERE cid = ?1 AND row = ?2")
            for (row, sender) in plan.senders {
                mark.bind(1, cid).bind(2, row).bind(3, sender)
                try mark.run()
            }
        }
        guard !choice.added.isEmpty else { return }
        let add = try db.statement(
            "INSERT INTO sender_day (identity, day, used) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET used = used + excluded.used")
        for (key, units) in choice.added {
            add.bind(1, key).bind(2, choice.day).bind(3, units)
            try add.run()
        }
    }

    /// Records each outcome as the settlement rule says, for rows still `sending`.
    /// Returns the line before the first row put back to `pending`, if any was.
    private func settle(cid: Int64, _ settlements: [Settlement], time: Int64, changes: inout TallyChanges,
                        ledger: inout LedgerDeltas, report: inout ReportCounters) throws -> Int? {
        guard !settlements.isEmpty else { return nil }
        let doubts = try earlierDoubts(cid: cid, rows: settlements.filter(\.needsDoubt).map(\.row))
        let update = try db.statement(
            """
            UPDATE message SET state = ?3, reason = ?4, detail = ?5, provider_ref = coalesce(?6, provider_ref), not_before = ?7,
                attempts = attempts + ?8, updated_at = ?9, doubt = coalesce(?10, doubt),
                spend_month = CASE WHEN ?11 THEN spend_month ELSE NULL END, earlier_spent = coalesce(?12, earlier_spent),
                route = coalesce(?13, route), parts = coalesce(?14, parts), cost = coalesce(?15, cost),
                sender = CASE WHEN ?13 IS NULL THEN sender END
            WHERE cid = ?1 AND row = ?2 AND state = \(MessageState.sending.sql)
            """)
        var putBack: Int?
        var sent = 0
        for item in settlements {
            let change = item.change(doubt: doubts.isEmpty ? nil : doubts[item.row], at: time)
            update.bind(1, cid).bind(2, change.row).bind(3, change.state.rawValue).bind(4, change.reason)
                .bind(5, change.detail).bind(6, change.providerRef).bind(7, change.notBefore)
                .bind(8, change.attempts).bind(9, time).bind(10, change.doubt).bind(11, change.keepsReservation ? 1 : 0)
                .bind(12, change.earlierSpent).bind(13, change.move?.to).bind(14, change.move?.parts).bind(15, change.move?.cost)
            try update.run()
            guard db.changes == 1 else { continue }  // not a claimed row: nothing was changed
            if let move = change.move { try recordSwitch(cid: cid, row: change.row, move, time: time) }
            // Accepted answers are counted in one move below.
            if change.state == .sent { sent += 1 } else { changes.move(from: change.from, to: change.to) }
            if change.putsBack { putBack = min(putBack ?? change.row, change.row) }
            if let request = change.suppression {
                _ = try suppressRecipient(cid: cid, row: change.row, reason: request.reason, source: request.source, time: time)
            }
            ledger.add(change.ledger)
            if let move = change.report { report.apply(move) }
        }
        changes.move(from: TallyKey(.sending), to: TallyKey(.sent), sent)
        guard let putBack else { return nil }
        let lower = try db.statement("UPDATE campaign SET pending_after = min(pending_after, ?2) WHERE cid = ?1")
        lower.bind(1, cid).bind(2, putBack - 1)
        try lower.run()
        return putBack - 1
    }

    /// A row moved to another provider: when, from which, to which and why.
    private func recordSwitch(cid: Int64, row: Int, _ move: RouteMove, time: Int64) throws {
        let insert = try db.statement("INSERT INTO route_switch (cid, row, at, from_route, to_route, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        insert.bind(1, cid).bind(2, row).bind(3, time).bind(4, move.from).bind(5, move.to).bind(6, move.reason)
        try insert.run()
    }

    /// The fact the settlement rule needs for a failure that proves nothing: why an
    /// earlier attempt of the row may have got through, by row.
    private func earlierDoubts(cid: Int64, rows: [Int]) throws -> [Int: String] {
        guard !rows.isEmpty else { return [:] }
        let select = try db.statement(
            "SELECT doubt FROM message WHERE cid = ?1 AND row = ?2 AND state = \(MessageState.sending.sql) AND doubt IS NOT NULL")
        var doubts: [Int: String] = [:]
        for row in rows {
            select.bind(1, cid).bind(2, row)
            if try select.step(), let doubt = select.string(0) { doubts[row] = doubt }
            select.reset()
        }
        return doubts
    }

    private func claimPending(_ plan: inout ClaimPlan, _ facts: ClaimFacts, limit: Int, cursor: inout ClaimCursor,
                              into claimed: inout [ClaimedMessage]) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz, region, earlier_spent, route, doubt IS NOT NULL, sender FROM message
            WHERE cid = ?1 AND row > ?2 AND state = \(MessageState.pending.sql) ORDER BY row LIMIT ?3
            """)
        var after = cursor.afterRow ?? 0
        select.bind(1, facts.cid).bind(2, after).bind(3, limit)
        var examined = 0
        var first: Int?
        let pending = TallyKey(.pending), time = plan.time, month = plan.month
        considering: while try select.step() {
            examined += 1
            let candidate = Self.candidate(select, from: pending, earlierSpent: 8, route: 9)
            if plan.choosesSender(candidate) { plan.recall(candidate.destination, try remembered(candidate.destination)) }
            switch try plan.consider(candidate, suppressed: try isSuppressed(candidate, facts),
                                     capped: try isCapped(candidate, facts, time: time)) {
            case .stop: break considering
            case .claim:
                claimed.append(candidate.claimed(month: month, sender: plan.senders[candidate.row]))
                if first == nil { first = candidate.row }
            case .skip, .deferUntil: break
            }
            after = candidate.row
        }
        select.reset()
        cursor.afterRow = after
        if examined == 0 || (plan.exhausted == nil && examined < limit) { cursor.pendingExhausted = true }
        // Skipped and deferred rows leave `pending` first, so the range below marks only claimed ones.
        try applySkipsAndDeferrals(&plan, cid: facts.cid)
        if let first, let last = claimed.last?.row {
            let mark = try db.statement(
                """
                UPDATE message SET state = \(MessageState.sending.sql), updated_at = ?4,
                    spend_month = CASE WHEN earlier_spent = \(EarlierSpend.resendIsFree) THEN NULL ELSE ?5 END
                WHERE cid = ?1 AND row BETWEEN ?2 AND ?3 AND state = \(MessageState.pending.sql)
                """)
            mark.bind(1, facts.cid).bind(2, first).bind(3, last).bind(4, plan.time).bind(5, plan.month)
            try mark.run()
        }
        // Every row up to here has left `pending`: the next run starts after it.
        let mark = try db.statement("UPDATE campaign SET pending_after = ?2 WHERE cid = ?1")
        mark.bind(1, facts.cid).bind(2, after)
        try mark.run()
    }

    private func claimRetries(_ plan: inout ClaimPlan, _ facts: ClaimFacts, limit: Int,
                              into claimed: inout [ClaimedMessage]) throws {
        let select = try db.statement(
            """
            SELECT row, dest, body, attempts, parts, cost, tz, region, reason, earlier_spent, route, doubt IS NOT NULL, sender
            FROM \(MessageState.retry.table)
            WHERE cid = ?1 AND state = \(MessageState.retry.sql) AND not_before <= ?2 ORDER BY not_before, row LIMIT ?3
            """)
        let time = plan.time, month = plan.month
        select.bind(1, facts.cid).bind(2, time).bind(3, limit)
        var retries: [ClaimedMessage] = []
        considering: while try select.step() {
            let candidate = Self.candidate(select, from: TallyKey(.retry, code: select.string(8)), earlierSpent: 9, route: 10)
            if plan.choosesSender(candidate) { plan.recall(candidate.destination, try remembered(candidate.destination)) }
            switch try plan.consider(candidate, suppressed: try isSuppressed(candidate, facts),
                                     capped: try isCapped(candidate, facts, time: time)) {
            case .stop:
                if ClaimPlan.offersPastStop(candidate) { continue considering }
                break considering
            case .claim: retries.append(candidate.claimed(month: month, sender: plan.senders[candidate.row]))
            case .skip, .deferUntil: break
            }
        }
        select.reset()
        try applySkipsAndDeferrals(&plan, cid: facts.cid)
        let mark = try db.statement(
            "UPDATE message SET state = \(MessageState.sending.sql), spend_month = ?4, updated_at = ?3 WHERE cid = ?1 AND row = ?2")
        for row in retries {
            mark.bind(1, facts.cid).bind(2, row.row).bind(3, time).bind(4, row.holdsReservation ? Int64(month) : nil)
            try mark.run()
        }
        claimed += retries
    }

    /// Writes the plan's skips (`skipped` with the rule's reason and detail) and
    /// deferrals (`retry`, with the rule's reason, until the window opens or the day turns).
    private func applySkipsAndDeferrals(_ plan: inout ClaimPlan, cid: Int64) throws {
        let (skipped, deferred) = plan.takeSkipsAndDeferrals()
        if !skipped.isEmpty {
            let skip = try db.statement(
                """
                UPDATE message SET state = \(MessageState.skipped.sql), reason = ?3, not_before = NULL, detail = ?4, updated_at = ?5
                WHERE cid = ?1 AND row = ?2
                """)
            for item in skipped {
                skip.bind(1, cid).bind(2, item.row).bind(3, item.reason.rawValue).bind(4, item.detail).bind(5, plan.time)
                try skip.run()
            }
        }
        if !deferred.isEmpty {
            let wait = try db.statement(
                """
                UPDATE message SET state = \(MessageState.retry.sql), reason = ?5, detail = NULL, not_before = ?3, updated_at = ?4
                WHERE cid = ?1 AND row = ?2
                """)
            for item in deferred {
                wait.bind(1, cid).bind(2, item.row).bind(3, item.opens).bind(4, plan.time).bind(5, item.reason.rawValue)
                try wait.run()
            }
        }
    }

    /// Whether the candidate's recipient reached the frequency cap.
    private func isCapped(_ candidate: ClaimCandidate, _ facts: ClaimFacts, time: Int64) throws -> Bool {
        guard let check = facts.contacts else { return false }
        return try isCapped(candidate.destination, check: check, now: time)
    }

    /// Whether the candidate's number is suppressed.
    private func isSuppressed(_ candidate: ClaimCandidate, _ facts: ClaimFacts) throws -> Bool {
        guard let check = facts.suppression else { return false }
        for scope in facts.sender.scopes(route: candidate.route) where try isSuppressed(candidate.destination, scope: scope, check: check) {
            return true
        }
        return false
    }

    private static func candidate(_ select: Statement, from: TallyKey, earlierSpent column: Int32, route: Int32) -> ClaimCandidate {
        ClaimCandidate(row: select.int(0), destination: UInt64(bitPattern: select.int64(1)), body: select.string(2) ?? "",
                       attempts: select.int(3), parts: select.int(4), cost: select.int64(5), timeZones: select.string(6),
                       from: from, region: select.string(7), earlierSpent: select.isNull(column) ? nil : select.int64(column),
                       route: RouteIndex.checked(select.int64(route)), doubted: select.int(route + 1) != 0,
                       sender: SenderIndex.checked(select.isNull(route + 2) ? nil : select.int64(route + 2)))
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

    public func remainingByZone(cid: Int64) throws(JournalError) -> [RemainingRows] {
        try read {
            let waiting = try db.statement(
                """
                SELECT tz, min(not_before), count(*) FROM \(MessageState.retry.table)
                WHERE cid = ?1 AND state = \(MessageState.retry.sql) AND not_before IS NOT NULL GROUP BY tz, not_before / 60000
                """)
            waiting.bind(1, cid)
            defer { waiting.reset() }
            var waitingRows: [RemainingRows] = []
            while try waiting.step() {
                waitingRows.append(RemainingRows(zones: waiting.string(0), due: waiting.int64(1), rows: waiting.int(2)))
            }
            let pending = try db.statement(
                "SELECT tz, count(*), min(row) FROM message WHERE cid = ?1 AND state = \(MessageState.pending.sql) GROUP BY tz")
            pending.bind(1, cid)
            defer { pending.reset() }
            var pendingRows: [(group: RemainingRows, first: Int)] = []
            while try pending.step() {
                pendingRows.append((RemainingRows(zones: pending.string(0), due: nil, rows: pending.int(1)), pending.int(2)))
            }
            return RemainingRows.ordered(waiting: waitingRows, pending: pendingRows)
        }
    }
}
