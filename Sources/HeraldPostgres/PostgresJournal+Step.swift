import Foundation
import HeraldCore
import HeraldStore
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
                     cursor: inout ClaimCursor, budget: BudgetContext?, gate: SendGate?, sender: String,
                     rate: SharedRate?) throws(JournalError) -> StepResult
    {
        let seq = (leases[cid]?.seq ?? 0) + 1
        let started = ContinuousClock.now
        defer {
            let elapsed = started.duration(to: .now)
            StepTimings.shared.record(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
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
              try session.query("SELECT step_seq FROM lease WHERE lid = $1", binds { $0.append(lid) }).first?.cells.int64(0) == seq
        else { return nil }
        var stepped = Stepped()
        for row in try session.query(
            """
            SELECT row, dest, body, attempts, parts, cost, tz, spend_month FROM message
            WHERE cid = $1 AND state = \(MessageState.sending.rawValue) AND owner = $2 AND claim_seq = $3 ORDER BY row
            """, binds { $0.append(cid); $0.append(lid); $0.append(seq) })
        {
            let candidate = try Candidate(row)
            stepped.step.claimed.append(candidate.claimed(month: try row.cells.int(7), due: nil))
        }
        return stepped
    }

    /// A row that may be claimed.
    struct Candidate {
        let row: Int
        let dest: Int64
        let body: String
        let attempts: Int
        let parts: Int
        let cost: Int64
        let timeZones: String?
        /// Where its counter is: pending, or retry with its reason.
        var from = TallyKey(.pending)

        init(_ row: PostgresRow) throws {
            let c = row.cells
            self.row = try c.int(0)
            dest = try c.optionalInt64(1) ?? 0
            body = try c.string(2) ?? ""
            attempts = try c.int(3)
            parts = try c.int(4)
            cost = try c.int64(5)
            timeZones = try c.string(6)
        }

        func claimed(month: Int, due: ContinuousClock.Instant?) -> ClaimedMessage {
            ClaimedMessage(row: row, destination: UInt64(bitPattern: dest), body: body, attempts: attempts, parts: parts,
                           cost: cost, month: month, due: due)
        }
    }

    /// The heavy work (settling this sender's rows, taking pending rows with SKIP LOCKED)
    /// runs beside other senders' steps; the campaign row is locked only for what must be
    /// serial: reserving within a budget (from the claim on, when the campaign has limits),
    /// and the ledger, counters, takeover and rate slots at the end of every step.
    private func stepOnce(cid: Int64, owner: LeaseOwner, seq: Int64, settlements: [Settlement], limit: Int,
                          budget: BudgetContext?, gate: SendGate?, rate: SharedRate?, sender: String) throws -> Stepped
    {
        let time = currentTime()
        let campaign = try session.query("SELECT control, ledger_scope, channel FROM campaign WHERE cid = $1", binds { $0.append(cid) })
        guard let head = campaign.first?.cells else { throw JournalError.unknownCampaign("#\(cid)", path: location) }
        let control = try head.string(0).flatMap(CampaignControl.init)
        let scope = try head.string(1) ?? LedgerScope.real.rawValue
        let channel = try head.string(2) ?? HeraldCore.Channel.sms.rawValue
        let lid = try ensureLease(cid: cid, owner: owner, seq: seq)
        var tally = TallyChanges()
        let settled = try settle(cid: cid, lid: lid, settlements, time: time, tally: &tally)
        var locked = false
        func lock() throws {
            guard !locked else { return }
            locked = true
            try session.query("SELECT 1 FROM campaign WHERE cid = $1 FOR UPDATE", binds { $0.append(cid) })
            for (month, delta) in settled.deltas {
                try adjustLedger(cid: cid, month: month, reserved: delta.reserved, spent: delta.spent)
            }
        }
        var stepped = Stepped()
        stepped.step.control = control
        let wanted = control == nil ? limit : 0
        var claimed = Claimed()
        if wanted > 0 {
            if let budget, !budget.limits.isEmpty { try lock() }
            claimed = try claim(cid: cid, lid: lid, seq: seq, wanted: wanted, time: time, scope: scope, channel: channel,
                                budget: budget, gate: gate, sender: sender, tally: &tally, into: &stepped)
        }
        try lock()
        if lastTakeover[cid].map({ $0.duration(to: .now) >= .seconds(1) }) ?? true {
            try takeOver(cid: cid, resend: resendsTakenOver[cid] ?? false)
        }
        if claimed.reserved != 0 { try adjustLedger(cid: cid, month: claimed.month, reserved: claimed.reserved, spent: 0) }
        // The provider said to slow down: every sender's next slot moves back.
        if rate != nil, let until = settled.throttledUntil, until > time {
            try session.query(
                "UPDATE rate_bucket SET next_slot = greatest(next_slot, clock_timestamp() + make_interval(secs => $2)) WHERE cid = $1",
                binds { $0.append(cid); $0.append(Double(until - time) / 1000) })
        }
        stepped.step.claimed = try schedule(claimed.rows, cid: cid, month: claimed.month, rate: rate)
        try tally.write(cid: cid, session)
        return stepped
    }

    /// What settling changed that other senders share: ledger deltas by month, and a throttle.
    struct Settled {
        var deltas: [Int: (reserved: Int64, spent: Int64)] = [:]
        var throttledUntil: Int64?
    }

    /// What a claim took: rows in claim order, their reservation and its month.
    struct Claimed {
        var rows: [Candidate] = []
        var reserved: Int64 = 0
        var month = 0
    }

    /// Records each outcome of rows this sender holds (others' are left alone: a row whose
    /// lease was taken over is no longer this sender's to settle). A failure that proves
    /// nothing leaves a row with an earlier doubt `in_doubt`, its reservation kept.
    private func settle(cid: Int64, lid: Int64, _ settlements: [Settlement], time: Int64, tally: inout TallyChanges) throws -> Settled {
        guard !settlements.isEmpty else { return Settled() }
        let inDoubt = MessageState.inDoubt.rawValue
        let newState = "CASE WHEN v.weak AND m.doubt IS NOT NULL THEN \(inDoubt) ELSE v.state END"
        let updated = try session.query(
            """
            UPDATE message m SET state = \(newState),
                reason = CASE WHEN v.weak AND m.doubt IS NOT NULL THEN m.doubt ELSE nullif(v.reason, '') END,
                detail = CASE WHEN v.weak AND m.doubt IS NOT NULL
                    THEN 'an earlier attempt may have been delivered (' || m.doubt || '); then ' || coalesce(nullif(v.detail, ''), v.reason)
                    ELSE nullif(v.detail, '') END,
                provider_ref = coalesce(nullif(v.ref, ''), m.provider_ref), not_before = nullif(v.not_before, -1),
                attempts = m.attempts + v.counts, updated_at = $3, owner = NULL,
                doubt = CASE WHEN v.doubt THEN v.reason ELSE m.doubt END,
                spend_month = CASE WHEN \(newState) IN (\(MessageState.sent.rawValue), \(inDoubt)) THEN m.spend_month END
            FROM unnest($4::int4[], $5::int2[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int4[], $11::bool[], $12::bool[])
                AS v(row, state, reason, detail, ref, not_before, counts, weak, doubt)
            WHERE m.cid = $1 AND m.row = v.row AND m.state = \(MessageState.sending.rawValue) AND m.owner = $2
            RETURNING m.row, m.state, coalesce(m.reason, '')
            """, binds {
                $0.append(cid); $0.append(lid); $0.append(time)
                $0.append(settlements.map { Int32($0.row) })
                $0.append(settlements.map { Int16($0.state.rawValue) })
                $0.append(settlements.map { $0.reason?.rawValue ?? "" })
                $0.append(settlements.map { $0.detail ?? "" })
                $0.append(settlements.map { $0.providerRef ?? "" })
                $0.append(settlements.map { $0.notBefore ?? -1 })
                $0.append(settlements.map { Int32($0.countsAttempt ? 1 : 0) })
                $0.append(settlements.map { $0.state == .failed && !($0.reason?.provesNotDelivered ?? true) })
                $0.append(settlements.map { $0.reason?.isDoubt == true })
            })
        var byRow: [Int: Settlement] = [:]
        for item in settlements { byRow[item.row] = item }
        var deltas: [Int: (reserved: Int64, spent: Int64)] = [:]
        for row in updated {
            let c = row.cells
            guard let item = byRow[try c.int(0)], let state = MessageState(rawValue: try c.int(1)) else { continue }
            tally.move(from: TallyKey(.sending), to: TallyKey(state, code: try c.string(2)))
            // In doubt: the reservation stays. Accepted: it becomes spend. Anything else releases it.
            guard item.cost != 0, state != .inDoubt else { continue }
            var delta = deltas[item.month] ?? (0, 0)
            delta.reserved -= item.cost
            if state == .sent { delta.spent += item.cost }
            deltas[item.month] = delta
        }
        return Settled(deltas: deltas,
                       throttledUntil: settlements.filter { $0.reason == .throttled }.compactMap(\.notBefore).max())
    }

    /// Claims within the budget (with limits, the campaign row is locked; the month's row
    /// is locked here) and the send windows. Touches only the rows it takes.
    private func claim(cid: Int64, lid: Int64, seq: Int64, wanted: Int, time: Int64, scope: String, channel: String,
                       budget: BudgetContext?, gate: SendGate?, sender: String, tally: inout TallyChanges,
                       into stepped: inout Stepped) throws -> Claimed
    {
        let listed = try session.query("SELECT EXISTS (SELECT 1 FROM suppression)").first!.cells.bool(0)
        let month = BillingMonth.of(milliseconds: time)
        var campaignSpent: Int64 = 0
        var monthSpent: Int64 = 0
        if let budget, !budget.limits.isEmpty {
            campaignSpent = try session.query("SELECT reserved + spent FROM campaign WHERE cid = $1", binds { $0.append(cid) })
                .first!.cells.int64(0)
            try session.query(
                "INSERT INTO month_ledger (scope, channel, month) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                binds { $0.append(scope); $0.append(channel); $0.append(month) })
            monthSpent = try session.query(
                "SELECT reserved + spent FROM month_ledger WHERE scope = $1 AND channel = $2 AND month = $3 FOR UPDATE",
                binds { $0.append(scope); $0.append(channel); $0.append(month) }).first!.cells.int64(0)
        }
        var claimed: [Candidate] = []
        var overPrice: [Candidate] = []
        var suppressed: [Candidate] = []
        var onList: Set<Int64> = []
        var deferred: [(Candidate, Int64)] = []
        var reserved: Int64 = 0
        func consider(_ candidate: Candidate) -> Bool {
            if onList.contains(candidate.dest) {
                suppressed.append(candidate)
                return true
            }
            if let gate, let opens = gate(candidate.timeZones, time) {
                deferred.append((candidate, opens))
                return true
            }
            guard let budget else {
                reserved += candidate.cost
                claimed.append(candidate)
                return true
            }
            switch budget.limits.decide(cost: Money(nanos: candidate.cost), campaignSpent: Money(nanos: campaignSpent),
                                        monthSpent: Money(nanos: monthSpent)) {
            case .admit:
                campaignSpent += candidate.cost
                monthSpent += candidate.cost
                reserved += candidate.cost
                claimed.append(candidate)
            case .overMaxPrice: overPrice.append(candidate)
            case .exhausted(let kind):
                stepped.step.exhausted = kind
                return false
            }
            return true
        }
        /// Numbers on the suppression list (for every sender, or this campaign's), checked
        /// when claimed, so that a number listed while the campaign runs is honoured.
        func checkList(_ candidates: [Candidate]) throws {
            guard listed, !candidates.isEmpty else { return }
            onList = Set(try session.query(
                "SELECT dest FROM suppression WHERE dest = ANY($1) AND scope IN ('', $2)",
                binds { $0.append(candidates.map(\.dest)); $0.append(sender) }).map { try $0.cells.int64(0) })
        }
        let columns = "row, dest, body, attempts, parts, cost, tz"
        let retries = try session.query(
            """
            SELECT \(columns), coalesce(reason, '') FROM message WHERE cid = $1 AND state = \(MessageState.retry.rawValue)
                AND not_before <= $2 ORDER BY not_before, row LIMIT $3 FOR UPDATE SKIP LOCKED
            """, binds { $0.append(cid); $0.append(time); $0.append(wanted) }).map { row in
                var candidate = try Candidate(row)
                candidate.from = TallyKey(.retry, code: try row.cells.string(7))
                return candidate
            }
        try checkList(retries)
        for candidate in retries {
            if !consider(candidate) { break }
        }
        if claimed.count < wanted, stepped.step.exhausted == nil {
            let asked = wanted - claimed.count
            let pending = try session.query(
                """
                SELECT \(columns) FROM message WHERE cid = $1 AND state = \(MessageState.pending.rawValue)
                ORDER BY row LIMIT $2 FOR UPDATE SKIP LOCKED
                """, binds { $0.append(cid); $0.append(asked) }).map(Candidate.init)
            try checkList(pending)
            for candidate in pending {
                guard consider(candidate) else { break }
            }
            stepped.pendingExhausted = pending.count < asked && stepped.step.exhausted == nil
        }
        if !claimed.isEmpty {
            try session.query(
                """
                UPDATE message SET state = \(MessageState.sending.rawValue), owner = $2, claim_seq = $3, spend_month = $4, updated_at = $5
                WHERE cid = $1 AND row = ANY($6)
                """, binds {
                    $0.append(cid); $0.append(lid); $0.append(seq); $0.append(month); $0.append(time)
                    $0.append(claimed.map { Int32($0.row) })
                })
            for candidate in claimed { tally.move(from: candidate.from, to: TallyKey(.sending)) }
        }
        if !overPrice.isEmpty {
            try session.query(
                """
                UPDATE message SET state = \(MessageState.skipped.rawValue), reason = '\(Reason.maxPrice.rawValue)', not_before = NULL,
                    detail = 'costs ' || to_char(cost / 1e9, 'FM999999990.000000000') || ' USD, more than max_price', updated_at = $2
                WHERE cid = $1 AND row = ANY($3)
                """, binds { $0.append(cid); $0.append(time); $0.append(overPrice.map { Int32($0.row) }) })
            for candidate in overPrice { tally.move(from: candidate.from, to: TallyKey(.skipped, .maxPrice)) }
            stepped.step.overMaxPrice = overPrice.count
        }
        if !suppressed.isEmpty {
            try session.query(
                """
                UPDATE message SET state = \(MessageState.skipped.rawValue), reason = '\(Reason.suppressed.rawValue)', not_before = NULL,
                    detail = 'the number is on the suppression list', updated_at = $2
                WHERE cid = $1 AND row = ANY($3)
                """, binds { $0.append(cid); $0.append(time); $0.append(suppressed.map { Int32($0.row) }) })
            for candidate in suppressed { tally.move(from: candidate.from, to: TallyKey(.skipped, .suppressed)) }
            stepped.step.suppressed = suppressed.count
        }
        if !deferred.isEmpty {
            try session.query(
                """
                UPDATE message m SET state = \(MessageState.retry.rawValue), reason = '\(Reason.window.rawValue)', detail = NULL,
                    not_before = v.opens, updated_at = $2
                FROM unnest($3::int4[], $4::int8[]) AS v(row, opens) WHERE m.cid = $1 AND m.row = v.row
                """, binds { $0.append(cid); $0.append(time); $0.append(deferred.map { Int32($0.0.row) }); $0.append(deferred.map(\.1)) })
            for (candidate, _) in deferred { tally.move(from: candidate.from, to: TallyKey(.retry, .window)) }
            stepped.step.deferred = deferred.count
        }
        return Claimed(rows: claimed, reserved: reserved, month: month)
    }

    static let rateMargin = 0.995
    static let jitterAllowance = 0.01

    /// Takes send slots for the claimed rows from the campaign's token bucket (GCRA, by the
    /// database's clock): in any window of T seconds, all senders together get at most
    /// rate × T + burst slots. Each row's slot becomes an instant on this process's clock.
    private func schedule(_ claimed: [Candidate], cid: Int64, month: Int, rate: SharedRate?) throws -> [ClaimedMessage] {
        guard let rate, rate.messagesPerSecond > 0, !claimed.isEmpty else {
            return claimed.map { $0.claimed(month: month, due: nil) }
        }
        let units = claimed.reduce(0) { $0 + (rate.countsParts ? max(1, $1.parts) : 1) }
        try session.query("INSERT INTO rate_bucket (cid, next_slot) VALUES ($1, clock_timestamp()) ON CONFLICT DO NOTHING",
                          binds { $0.append(cid) })
        // Aimed 0.5% under the rate, with 10 ms of the burst held back: the provider sees
        // arrivals, which network and scheduling jitter move by some milliseconds, and its
        // one-second windows must stay within rate + burst all the same.
        let paced = rate.messagesPerSecond * Self.rateMargin
        let tolerance = max(0, rate.burst - rate.messagesPerSecond * Self.jitterAllowance) / paced
        let span = Double(units) / paced
        let start = try session.query(
            """
            UPDATE rate_bucket SET next_slot = greatest(next_slot, clock_timestamp() - make_interval(secs => $2))
                + make_interval(secs => $3)
            WHERE cid = $1
            RETURNING extract(epoch from (next_slot - make_interval(secs => $3) - clock_timestamp()))::float8
            """, binds { $0.append(cid); $0.append(tolerance); $0.append(span) }).first!.cells.double(0)
        let base = ContinuousClock.now + .nanoseconds(Int64(start * 1e9))
        var used = 0
        return claimed.map { candidate in
            let due = base + .nanoseconds(Int64(Double(used) / paced * 1e9))
            used += rate.countsParts ? max(1, candidate.parts) : 1
            return candidate.claimed(month: month, due: due)
        }
    }
}
