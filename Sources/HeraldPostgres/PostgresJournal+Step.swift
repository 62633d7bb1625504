import Foundation
import HeraldCore
import HeraldJournal

import PostgresNIO

extension PostgresJournal {
    /// One committed step: settles this sender's last outcomes, takes over the rows of
    /// senders whose lease expired, and claims up to `limit` rows (due retries first, then
    /// pending rows in file order) within the budget and the shared rate, refreshing the
    /// lease, in one transaction that holds the campaign row.
    ///
    /// When the connection drops, the step is made again on a new one; if the first try
    /// had committed (the lease's `step_seq` says so), its claim is read back instead, so
    /// no claimed row is ever lost in limbo.
    public func step(cid: Int64, owner: LeaseOwner, settle settlements: [Settlement], claim limit: Int,
                     cursor: inout ClaimCursor, budget: BudgetContext?, gate: SendGate?, sender: SenderScopes,
                     rate: SharedRate?) throws(JournalError) -> StepResult
    {
        let seq = (leases[cid]?.seq ?? 0) + 1
        let started = ContinuousClock.now
        defer {
            let elapsed = started.duration(to: .now)
            StepTimings.shared.record(elapsed.seconds)
        }
        var tried = false
        let result = try attempt { () throws -> Stepped in
            if tried, let committed = try committedStep(cid: cid, seq: seq) { return committed }
            tried = true
            return try session.transaction {
                try stepOnce(cid: cid, owner: owner, seq: seq, settlements: settlements, limit: limit, budget: budget,
                             gate: gate, rate: rate, sender: sender)
            }
        }
        leases[cid]?.seq = seq
        cursor.pendingExhausted = result.pendingExhausted
        return result.step
    }

    struct Stepped {
        var step = StepResult()
        var pendingExhausted = false
    }

    /// The claim of step `seq` if it committed before the connection dropped.
    private func committedStep(cid: Int64, seq: Int64) throws -> Stepped? {
        guard let lid = leases[cid]?.lid,
              try session.query("SELECT step_seq FROM lease WHERE lid = \(lid)").first?.cells.int64(0) == seq
        else { return nil }
        var stepped = Stepped()
        for row in try session.query(
            """
            SELECT \(sql: Self.candidateColumns), spend_month, updated_at FROM message
            WHERE cid = \(cid) AND state = \(MessageState.sending) AND owner = \(lid) AND claim_seq = \(seq) ORDER BY row
            """)
        {
            // A free resend holds no reservation (no month): the claim's own month stands in.
            let month = try row.cells.optionalInt64(12).map { Int(clamping: $0) }
                ?? BillingMonth.of(milliseconds: try row.cells.int64(13))
            stepped.step.claimed.append(try Self.candidate(row, from: TallyKey(.sending)).claimed(month: month, epoch: lid))
        }
        return stepped
    }

    /// The columns of a row that may be claimed, as `candidate` reads them.
    static let candidateColumns = "row, dest, body, attempts, parts, cost, tz, region, earlier_spent, route, doubt IS NOT NULL, sender"

    /// A row that may be claimed, from `candidateColumns`.
    static func candidate(_ row: PostgresRow, from: TallyKey) throws -> ClaimCandidate {
        let c = row.cells
        return ClaimCandidate(row: try c.int(0), destination: UInt64(bitPattern: try c.optionalInt64(1) ?? 0),
                              body: try c.string(2) ?? "", attempts: try c.int(3), parts: try c.int(4), cost: try c.int64(5),
                              timeZones: try c.string(6), from: from, region: try c.string(7), earlierSpent: try c.optionalInt64(8),
                              route: RouteIndex.checked(try c.int64(9)), doubted: try c.bool(10),
                              sender: SenderIndex.checked(try c.optionalInt64(11)))
    }

    /// The heavy work (settling this sender's rows, taking pending rows with SKIP LOCKED)
    /// runs beside other senders' steps; the campaign row is locked only for what must be
    /// serial: reserving within a budget (from the claim on, when the campaign has limits),
    /// and the ledger, counters, takeover and rate slots at the end of every step.
    private func stepOnce(cid: Int64, owner: LeaseOwner, seq: Int64, settlements: [Settlement], limit: Int,
                          budget: BudgetContext?, gate: SendGate?, rate: SharedRate?, sender: SenderScopes) throws -> Stepped
    {
        let time = currentTime()
        let campaign = try session.query("SELECT control, ledger_scope, channel FROM campaign WHERE cid = \(cid)")
        guard let head = campaign.first?.cells else { throw JournalError.unknownCampaign("#\(cid)", path: location) }
        let control = try head.string(0).flatMap(CampaignControl.init)
        let scope = try head.string(1) ?? LedgerScope.real.rawValue
        let channel = try head.string(2) ?? HeraldCore.Channel.sms.rawValue
        let lid = try ensureLease(cid: cid, owner: owner, seq: seq)
        var tally = TallyChanges()
        var report = ReportCounters()
        let settled = try settle(cid: cid, lid: lid, settlements, time: time, tally: &tally, report: &report)
        var locked = false
        func lock() throws {
            guard !locked else { return }
            locked = true
            try session.query("SELECT 1 FROM campaign WHERE cid = \(cid) FOR UPDATE")
            for delta in settled.ledger.deltas {
                try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent)
            }
        }
        if !settled.late.isEmpty {
            // Rows taken over are locked after the campaign row, as `resendInDoubt` and the
            // takeover lock them: one order for all, so they never wait on each other in a circle.
            try lock()
            var ledger = LedgerDeltas()
            try settleLate(cid: cid, settled.late, time: time, tally: &tally, report: &report, ledger: &ledger)
            for delta in ledger.deltas { try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent) }
        }
        var stepped = Stepped()
        stepped.step.control = control
        let wanted = control == nil ? limit : 0
        var claimed = Claimed()
        if wanted > 0 {
            if let budget, !budget.limits.isEmpty { try lock() }
            claimed = try claim(cid: cid, lid: lid, seq: seq, wanted: wanted, time: time, scope: scope, channel: channel,
                                budget: budget, gate: gate, sender: sender, tally: &tally, report: &report, into: &stepped)
        }
        try lock()
        if lastTakeover[cid].map({ $0.duration(to: .now) >= .seconds(1) }) ?? true {
            try takeOver(cid: cid, resend: resendsTakenOver[cid] ?? false)
        }
        if claimed.reserved != 0 { try adjustLedger(cid: cid, month: claimed.month, reserved: claimed.reserved, spent: 0) }
        // The provider said to slow down: every sender's next slot moves back.
        if rate != nil, let until = settled.throttledUntil, until > time {
            try session.query(
                """
                UPDATE rate_bucket
                SET next_slot = greatest(next_slot, clock_timestamp() + make_interval(secs => \(Double(until - time) / 1000)))
                WHERE cid = \(cid)
                """)
        }
        stepped.step.claimed = try schedule(claimed, cid: cid, rate: rate, senders: sender,
                                            countsParts: channel == HeraldCore.Channel.sms.rawValue, epoch: lid)
        var upserts = CounterUpserts()
        tally.add(cid: cid, to: &upserts)
        report.add(cid: cid, to: &upserts)
        try upserts.run(session)
        return stepped
    }

    /// What settling changed that other senders share: ledger changes, and a throttle; and
    /// the outcomes whose claim was lost, with its epoch, for `settleLate`.
    struct Settled {
        var ledger = LedgerDeltas()
        var throttledUntil: Int64?
        var late: [(Settlement, Int64)] = []
    }

    /// What a claim took: rows in claim order, their reservation and its month.
    struct Claimed {
        var rows: [ClaimCandidate] = []
        var reserved: Int64 = 0
        var month = 0
        /// The identity of its route's pool each claimed row goes from, by row.
        var senders: [Int: Int] = [:]
    }

    /// Records each outcome, as the settlement rule says, for rows its claim still holds:
    /// the row is `sending` under the epoch (lease) the claim was made under. Rows taken
    /// over since (their sender's lease expired) get what `Fencing` still allows: an
    /// accepted answer settles them as `sent`, a row given back unsent leaves doubt. With
    /// the rules' counters, ledger and suppressions.
    private func settle(cid: Int64, lid: Int64, _ settlements: [Settlement], time: Int64, tally: inout TallyChanges,
                        report: inout ReportCounters) throws -> Settled {
        guard !settlements.isEmpty else { return Settled() }
        let epochs = settlements.map { $0.epoch ?? lid }
        let doubts = try earlierDoubts(cid: cid, epochs: Array(Set(epochs)), rows: settlements.filter(\.needsDoubt).map(\.row))
        let changes = settlements.map { $0.change(doubt: doubts[$0.row], at: time) }
        let changedRows = changes.map { Int32($0.row) }, states = changes.map { Int16($0.state.rawValue) }
        let reasons = changes.map { $0.reason ?? "" }, details = changes.map { $0.detail ?? "" }
        let refs = changes.map { $0.providerRef ?? "" }, notBefore = changes.map { $0.notBefore ?? -1 }
        let attempts = changes.map { Int32($0.attempts) }, doubtsKept = changes.map { $0.doubt ?? "" }
        let keeps = changes.map(\.keepsReservation), marks = changes.map { Int16($0.earlierSpent ?? -1) }
        let routes = changes.map { Int16($0.move?.to ?? -1) }, parts = changes.map { Int32($0.move?.parts ?? -1) }
        let costs = changes.map { $0.move?.cost ?? -1 }
        let updated = try session.query(
            """
            UPDATE message m SET state = v.state, reason = nullif(v.reason, ''), detail = nullif(v.detail, ''),
                provider_ref = coalesce(nullif(v.ref, ''), m.provider_ref), not_before = nullif(v.not_before, -1),
                attempts = m.attempts + v.counts, updated_at = \(time), owner = NULL,
                doubt = coalesce(nullif(v.doubt, ''), m.doubt), spend_month = CASE WHEN v.keeps THEN m.spend_month END,
                earlier_spent = coalesce(nullif(v.mark, -1), m.earlier_spent), route = coalesce(nullif(v.route, -1), m.route),
                parts = coalesce(nullif(v.parts, -1), m.parts), cost = coalesce(nullif(v.cost, -1), m.cost),
                sender = CASE WHEN v.route = -1 THEN m.sender END
            FROM unnest(\(changedRows)::int4[], \(states)::int2[], \(reasons)::text[], \(details)::text[], \(refs)::text[],
                        \(notBefore)::int8[], \(attempts)::int4[], \(doubtsKept)::text[], \(keeps)::bool[], \(epochs)::int8[],
                        \(marks)::int2[], \(routes)::int2[], \(parts)::int4[], \(costs)::int8[])
                AS v(row, state, reason, detail, ref, not_before, counts, doubt, keeps, epoch, mark, route, parts, cost)
            WHERE m.cid = \(cid) AND m.row = v.row AND m.state = \(MessageState.sending) AND m.owner = v.epoch
            RETURNING m.row
            """)
        var byRow: [Int: RowChange] = [:]
        for change in changes { byRow[change.row] = change }
        var settled = Settled()
        var listed: [SuppressionRequest: [Int32]] = [:]
        var done: Set<Int> = []
        for row in updated {
            guard let change = byRow[try row.cells.int(0)] else { continue }
            done.insert(change.row)
            tally.move(from: change.from, to: change.to)
            if let move = change.report { report.apply(move) }
            settled.ledger.add(change.ledger)
            if let request = change.suppression { listed[request, default: []].append(Int32(change.row)) }
        }
        let moved = changes.filter { $0.move != nil && done.contains($0.row) }
        if !moved.isEmpty {
            try session.query(
                """
                INSERT INTO route_switch (cid, row, at, from_route, to_route, reason)
                SELECT \(cid), v.row, \(time), v.from_route, v.to_route, v.reason
                FROM unnest(\(moved.map { Int32($0.row) })::int4[], \(moved.map { Int16($0.move?.from ?? 0) })::int2[],
                            \(moved.map { Int16($0.move?.to ?? 0) })::int2[], \(moved.map { $0.move?.reason ?? "" })::text[])
                    AS v(row, from_route, to_route, reason)
                """)
        }
        for (request, rows) in listed {
            try session.query(
                """
                INSERT INTO suppression (dest, scope, reason, source, added_at)
                SELECT dest, '', \(request.reason), \(request.source.rawValue), \(time) FROM message WHERE cid = \(cid)
                    AND row = ANY(\(rows)) AND dest IS NOT NULL
                ON CONFLICT DO NOTHING
                """)
        }
        settled.late = zip(settlements, epochs).filter { settlement, _ in
            !done.contains(settlement.row) && (settlement.state == .sent || (settlement.state == .pending && !settlement.countsAttempt))
        }
        settled.throttledUntil = settlements.filter { $0.reason == .throttled }.compactMap(\.notBefore).max()
        return settled
    }

    /// Outcomes whose claim was lost, as `Fencing` says: the rows' facts read (and locked),
    /// each change applied only while the row is still as read.
    private func settleLate(cid: Int64, _ late: [(Settlement, Int64)], time: Int64, tally: inout TallyChanges,
                            report: inout ReportCounters, ledger: inout LedgerDeltas) throws {
        var facts: [Int: Fencing.RowFacts] = [:]
        for row in try session.query(
            """
            SELECT row, state, reason, owner, spend_month, cost, region, updated_at, earlier_spent FROM message
            WHERE cid = \(cid) AND row = ANY(\(late.map { Int32($0.0.row) })) ORDER BY row FOR UPDATE
            """)
        {
            let c = row.cells
            guard let state = MessageState(rawValue: try c.int(1)) else { continue }
            facts[try c.int(0)] = Fencing.RowFacts(
                state: state, reason: try c.string(2), epoch: try c.optionalInt64(3), spendMonth: try c[4].decode(Int?.self),
                cost: try c.int64(5), region: try c.string(6), updatedAt: try c.int64(7), earlierSpent: try c.optionalInt64(8) != nil)
        }
        for (settlement, epoch) in late {
            guard let row = facts[settlement.row],
                  let change = Fencing.lateChange(settlement, epoch: epoch, row: row, time: time) else { continue }
            let applied = try session.query(
                """
                UPDATE message SET state = \(Int16(change.state.rawValue)), reason = \(change.reason),
                    detail = \(change.detail), provider_ref = coalesce(\(change.providerRef), provider_ref), not_before = NULL,
                    attempts = attempts + \(Int32(change.attempts)), updated_at = \(time), owner = NULL,
                    spend_month = CASE WHEN \(change.keepsReservation) THEN coalesce(spend_month, \(change.ledger?.month)) END
                WHERE cid = \(cid) AND row = \(Int32(change.row)) AND state = \(Int16(row.state.rawValue))
                    AND owner IS NOT DISTINCT FROM \(row.epoch)
                RETURNING row
                """)
            guard !applied.isEmpty else { continue }
            tally.move(from: change.from, to: change.to)
            if let move = change.report { report.apply(move) }
            ledger.add(change.ledger)
        }
    }

    /// The fact the settlement rule needs for failures that prove nothing: why an earlier
    /// attempt of each row may have got through.
    private func earlierDoubts(cid: Int64, epochs: [Int64], rows: [Int]) throws -> [Int: String] {
        guard !rows.isEmpty else { return [:] }
        var doubts: [Int: String] = [:]
        for row in try session.query(
            """
            SELECT row, doubt FROM message
            WHERE cid = \(cid) AND row = ANY(\(rows.map { Int32($0) })) AND state = \(MessageState.sending)
                AND owner = ANY(\(epochs)) AND doubt IS NOT NULL
            """)
        {
            doubts[try row.cells.int(0)] = try row.cells.string(1)
        }
        return doubts
    }

    /// Claims as the claim rule decides (`ClaimPlan`), within the budget (with limits, the
    /// campaign row is locked; the month's row is locked here) and the send windows.
    /// Touches only the rows it takes.
    private func claim(cid: Int64, lid: Int64, seq: Int64, wanted: Int, time: Int64, scope: String, channel: String,
                       budget: BudgetContext?, gate: SendGate?, sender: SenderScopes, tally: inout TallyChanges,
                       report: inout ReportCounters, into stepped: inout Stepped) throws -> Claimed
    {
        let listed = try session.query("SELECT EXISTS (SELECT 1 FROM suppression)").first?.cells.bool(0) ?? false
        let month = BillingMonth.of(milliseconds: time)
        var campaignSpent: Int64 = 0
        var monthSpent: Int64 = 0
        if ClaimPlan.needsSpend(budget) {
            campaignSpent = try session.query("SELECT reserved + spent FROM campaign WHERE cid = \(cid)")
                .first?.cells.int64(0) ?? 0
            try session.query(
                "INSERT INTO month_ledger (scope, channel, month) VALUES (\(scope), \(channel), \(month)) ON CONFLICT DO NOTHING")
            monthSpent = try session.query(
                """
                SELECT reserved + spent
                FROM month_ledger
                WHERE scope = \(scope) AND channel = \(channel) AND month = \(month)
                FOR UPDATE
                """).first?.cells.int64(0) ?? 0
        }
        var plan = ClaimPlan(budget: budget, campaignSpent: campaignSpent, monthSpent: monthSpent, time: time, gate: gate)
        if sender.hasPools {
            plan.usePools(sender, used: try lockSenderDays(sender, time: time), countsParts: channel == HeraldCore.Channel.sms.rawValue,
                          remembers: scope == LedgerScope.real.rawValue)
        }
        var claimed: [ClaimCandidate] = []
        /// Offers candidates to the plan; false once the budget stopped the claim (due retries
        /// are all offered still: free resends among them are admitted). Numbers on
        /// the suppression list (for every sender, or this campaign's) are read per batch,
        /// so a number listed while the campaign runs is honoured at the next claim.
        func offer(_ candidates: [ClaimCandidate]) throws -> Bool {
            // Listed numbers with the scope they are listed for: every sender (""), or one.
            var onList: Set<SuppressedPair> = []
            if listed, !candidates.isEmpty {
                let scopes = [""] + sender.distinct.filter { !$0.isEmpty }
                onList = Set(try session.query(
                    """
                    SELECT dest, scope
                    FROM suppression
                    WHERE dest = ANY(\(candidates.map { Int64(bitPattern: $0.destination) })) AND scope = ANY(\(scopes))
                    """)
                    .map { SuppressedPair(dest: try $0.cells.int64(0), scope: try $0.cells.string(1) ?? "") })
            }
            let capped = try cappedNumbers(cid: cid, among: candidates.map(\.destination), time: time)
            try recallSenders(candidates, into: &plan)
            for candidate in candidates {
                let number = Int64(bitPattern: candidate.destination)
                let suppressed = onList.contains(SuppressedPair(dest: number, scope: ""))
                    || sender.scopes(route: candidate.route).contains { onList.contains(SuppressedPair(dest: number, scope: $0)) }
                switch plan.consider(candidate, suppressed: suppressed, capped: capped?.contains(number) ?? false) {
                case .stop: if !ClaimPlan.offersPastStop(candidate) { return false }
                case .claim: claimed.append(candidate)
                case .skip, .deferUntil: break
                }
            }
            return plan.exhausted == nil
        }
        let columns = Self.candidateColumns
        let retries = try session.query(
            """
            SELECT \(sql: columns), coalesce(reason, '') FROM message WHERE cid = \(cid) AND state = \(MessageState.retry)
                AND not_before <= \(time) ORDER BY not_before, row LIMIT \(wanted) FOR UPDATE SKIP LOCKED
            """).map { row in
                try Self.candidate(row, from: TallyKey(.retry, code: try row.cells.string(12)))
            }
        if try offer(retries), claimed.count < wanted {
            let asked = wanted - claimed.count
            let pending = try session.query(
                """
                SELECT \(sql: columns) FROM message WHERE cid = \(cid) AND state = \(MessageState.pending)
                ORDER BY row LIMIT \(asked) FOR UPDATE SKIP LOCKED
                """).map { try Self.candidate($0, from: TallyKey(.pending)) }
            stepped.pendingExhausted = try offer(pending) && pending.count < asked
        }
        if !claimed.isEmpty {
            try session.query(
                """
                UPDATE message SET state = \(MessageState.sending), owner = \(lid), claim_seq = \(seq), updated_at = \(time),
                    spend_month = CASE WHEN earlier_spent = \(Int16(EarlierSpend.resendIsFree)) THEN NULL ELSE \(month) END
                WHERE cid = \(cid) AND row = ANY(\(claimed.map { Int32($0.row) }))
                """)
        }
        try recordSenders(plan, cid: cid)
        try remember(plan.remembering, cid: cid, time: time)
        let (skipped, deferred) = plan.takeSkipsAndDeferrals()
        if !skipped.isEmpty {
            try session.query(
                """
                UPDATE message m SET state = \(MessageState.skipped), reason = v.reason, detail = v.detail, not_before = NULL,
                    updated_at = \(time)
                FROM unnest(\(skipped.map { Int32($0.row) })::int4[], \(skipped.map(\.reason.rawValue))::text[],
                    \(skipped.map(\.detail))::text[]) AS v(row, reason, detail) WHERE m.cid = \(cid) AND m.row = v.row
                """)
        }
        if !deferred.isEmpty {
            try session.query(
                """
                UPDATE message m SET state = \(MessageState.retry), reason = v.reason, detail = NULL,
                    not_before = v.opens, updated_at = \(time)
                FROM unnest(\(deferred.map { Int32($0.row) })::int4[], \(deferred.map(\.opens))::int8[],
                    \(deferred.map(\.reason.rawValue))::text[]) AS v(row, opens, reason)
                    WHERE m.cid = \(cid) AND m.row = v.row
                """)
        }
        plan.record(into: &stepped.step)
        tally.merge(plan.tally)
        report.merge(plan.report)
        return Claimed(rows: claimed, reserved: plan.reserved, month: month, senders: plan.senders)
    }

    /// Takes send slots for the claimed rows from the campaign's token bucket (GCRA, by the
    /// database's clock): in any window of T seconds, all senders together get at most
    /// `Pacing.margin` × rate × T + burst slots. Each slot becomes an instant on this process's
    /// clock through `serverClock`, so a freeze while the answer was on its way leaves the
    /// slots where the database put them: a sender that misses one by more than
    /// `Pacing.lateness` forfeits it (the dispatcher puts the row back).
    private func schedule(_ claimed: Claimed, cid: Int64, rate: SharedRate?, senders scopes: SenderScopes, countsParts: Bool,
                          epoch: Int64) throws -> [ClaimedMessage] {
        let rows = claimed.rows, month = claimed.month
        func plain() -> [ClaimedMessage] { rows.map { $0.claimed(month: month, due: nil, epoch: epoch, sender: claimed.senders[$0.row]) } }
        guard !rows.isEmpty else { return [] }
        var slots = [Double?](repeating: nil, count: rows.count)
        let sent = ContinuousClock.now
        var serverNow: Double?
        if let rate, rate.messagesPerSecond > 0 {
            let units = rows.map { rate.countsParts ? max(1, $0.parts) : 1 }
            try session.query("INSERT INTO rate_bucket (cid, next_slot) VALUES (\(cid), clock_timestamp()) ON CONFLICT DO NOTHING")
            let pacing = Pacing(rate: rate.messagesPerSecond, burst: rate.burst)
            let span = Double(units.reduce(0, +)) / pacing.pacedRate
            let cells = try session.query(
                """
                UPDATE rate_bucket SET next_slot = greatest(next_slot,
                    clock_timestamp() - make_interval(secs => \(pacing.burst / pacing.pacedRate)))
                    + make_interval(secs => \(span))
                WHERE cid = \(cid)
                RETURNING extract(epoch from next_slot - make_interval(secs => \(span)))::float8,
                    extract(epoch from clock_timestamp())::float8
                """).first?.cells
            guard let cells, let start = try? cells.double(0), let now = try? cells.double(1) else {
                throw JournalError.server("the rate bucket of campaign \(cid) has no readable slot", path: location)
            }
            serverNow = now
            slots = pacing.slots(from: start, serverNow: now, units: units)
        }
        if scopes.hasPools {
            let paced = try senderSlots(rows, senders: claimed.senders, scopes: scopes, slots: slots, countsParts: countsParts)
            slots = paced.slots
            serverNow = serverNow ?? paced.serverNow
        }
        let answered = ContinuousClock.now
        guard let serverNow else { return plain() }
        serverClock.observe(server: serverNow, sent: sent, answered: answered)
        return zip(rows, slots).map { candidate, slot in
            candidate.claimed(month: month, due: slot.map { serverClock.instant($0, now: answered) }, epoch: epoch,
                              sender: claimed.senders[candidate.row])
        }
    }

}

/// A number on the suppression list and the sender it is listed for ("" for every sender).
struct SuppressedPair: Hashable {
    let dest: Int64
    let scope: String
}
