import Foundation
import HeraldCore
import HeraldJournal

import PostgresNIO

extension PostgresJournal {
    var liveLease: String { "heartbeat > clock_timestamp() - make_interval(secs => \(target.leaseTimeoutSeconds))" }

    /// Joins the campaign, creating it if new. The first sender imports it while holding
    /// an advisory lock; a sender that arrives meanwhile waits for the lock, then joins.
    /// Changed inputs are refused once any row has left `pending`; a paused campaign
    /// unless `unpause`, a cancelled one always.
    public func open(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
                     unpause: Bool) throws(JournalError) -> CampaignOpening
    {
        while true {
            let outcome: OpenOutcome = try attempt { try session.transaction { try openOnce(inputs, owner: owner,
                recipientsPath: recipientsPath, templatePath: templatePath, unpause: unpause) } }
            switch outcome {
            case .opened(let opening):
                if case .needsImport(let cid) = opening { importing.insert(cid) }
                resendsTakenOver[opening.cid] = inputs.providerDedupes
                return opening
            case .waitForImport(let cid):
                // Another sender imports it: wait for its lock, then look again.
                try attempt {
                    try session.query("SELECT pg_advisory_lock($1, $2)", importLock(cid))
                    try session.query("SELECT pg_advisory_unlock($1, $2)", importLock(cid))
                }
            }
        }
    }

    enum OpenOutcome {
        case opened(CampaignOpening)
        case waitForImport(cid: Int64)
    }

    func importLock(_ cid: Int64) -> PostgresBindings {
        binds { $0.append(PostgresSchema.lockSpace); $0.append(Int32(truncatingIfNeeded: cid)) }
    }

    private func openOnce(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
                          unpause: Bool) throws -> OpenOutcome
    {
        let time = currentTime()
        let name = CampaignKey(id: inputs.id, mode: inputs.mode).description
        // Opens of one campaign take turns.
        try session.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", binds { $0.append(PostgresSchema.lockSpace); $0.append(name) })
        let found = try session.query(
            "SELECT cid, state, control, template_sha, recipients_sha, purged_at FROM campaign WHERE id = $1 AND mode = $2 FOR UPDATE",
            binds { $0.append(inputs.id); $0.append(inputs.mode.rawValue) })
        guard let row = found.first?.cells else {
            let cid = try session.query(
                """
                INSERT INTO campaign (id, mode, campaign_path, template_sha, recipients_sha, channel, state, created_at, updated_at,
                    ledger_scope, max_price, campaign_limit, monthly_limit, sender)
                VALUES ($1, $2, $3, $4, $5, $6, 'importing', $7, $7, $8, $9, $10, $11, $12) RETURNING cid
                """, campaignBinds(inputs, time: time)).first!.cells.int64(0)
            try session.query("SELECT pg_advisory_lock($1, $2)", importLock(cid))
            try register(cid: cid, owner: owner)
            return .opened(.needsImport(cid: cid))
        }
        let cid = try row.int64(0)
        let state = CampaignState(rawValue: try row.string(1) ?? "") ?? .stopped
        // Its numbers are gone: it can never be sent again (as on SQLite).
        if try row.optionalInt64(5) != nil { throw JournalError.controlled(campaign: name, control: "purged", path: location) }
        if let control = try row.string(2).flatMap(CampaignControl.init), control == .cancel || !unpause {
            throw JournalError.controlled(campaign: name, control: control.rawValue, path: location)
        }
        if state == .cancelled { throw JournalError.controlled(campaign: name, control: "cancel", path: location) }
        var reimport = false
        if state == .importing {
            // Held by a live importer: wait for it. Not held: its importer died; import again.
            let free = try session.query("SELECT pg_try_advisory_lock($1, $2)", importLock(cid)).first!.cells.bool(0)
            guard free else { return .waitForImport(cid: cid) }
            reimport = true
        }
        let changed: (file: String, path: String)? =
            try row.string(3) != inputs.templateSHA ? ("template", templatePath)
            : try row.string(4) != inputs.recipientsSHA ? ("recipient CSV", recipientsPath) : nil
        if let changed, !reimport {
            let started = try session.query(
                "SELECT EXISTS (SELECT 1 FROM tally WHERE cid = $1 AND n > 0 AND state = ANY($2))",
                binds { $0.append(cid); $0.append(BulkRule.startedStates.map { Int16($0.rawValue) }) })
            if try started.first!.cells.bool(0) {
                throw JournalError.inputsChanged(campaign: name, file: changed.file, changed: changed.path, path: location)
            }
            let free = try session.query("SELECT pg_try_advisory_lock($1, $2)", importLock(cid)).first!.cells.bool(0)
            guard free else { return .waitForImport(cid: cid) }
            reimport = true
        }
        try session.query(
            """
            UPDATE campaign SET id = $1, mode = $2, campaign_path = $3, template_sha = $4, recipients_sha = $5, channel = $6,
                state = CASE WHEN $13 THEN 'importing' ELSE state END, updated_at = $7, ledger_scope = $8, max_price = $9,
                campaign_limit = $10, monthly_limit = $11, sender = $12, control = NULL,
                stop_reason = CASE WHEN state = 'running' THEN stop_reason END,
                stop_kind = CASE WHEN state = 'running' THEN stop_kind END
            WHERE cid = $14
            """, binds {
                appendCampaign(inputs, time: time, to: &$0)
                $0.append(reimport); $0.append(cid)
            })
        try register(cid: cid, owner: owner)
        if reimport {
            for table in ["message", "tally"] { try session.query("DELETE FROM \(table) WHERE cid = $1", binds { $0.append(cid) }) }
            return .opened(.needsImport(cid: cid))
        }
        let recovered = try takeOver(cid: cid, resend: inputs.providerDedupes)
        return .opened(.ready(cid: cid, recoveredInDoubt: recovered))
    }

    private func campaignBinds(_ inputs: CampaignInputs, time: Int64) -> PostgresBindings {
        binds { appendCampaign(inputs, time: time, to: &$0) }
    }

    private func appendCampaign(_ inputs: CampaignInputs, time: Int64, to bindings: inout PostgresBindings) {
        bindings.append(inputs.id); bindings.append(inputs.mode.rawValue); bindings.append(inputs.campaignPath); bindings.append(inputs.templateSHA)
        bindings.append(inputs.recipientsSHA); bindings.append(inputs.channel.rawValue); bindings.append(time)
        bindings.append(inputs.ledgerScope.rawValue); bindings.append(inputs.limits.maxPrice?.nanos)
        bindings.append(inputs.limits.campaignLimit?.nanos); bindings.append(inputs.limits.monthlyLimit?.nanos)
        bindings.append(inputs.sender.rawValue)
    }

    /// This process's lease row for the campaign (a new one after a takeover removed it).
    private func register(cid: Int64, owner: LeaseOwner) throws {
        if let held = leases[cid] {
            try session.query("DELETE FROM lease WHERE lid = $1", binds { $0.append(held.lid) })
        }
        let lid = try session.query(
            "INSERT INTO lease (cid, token, pid, host, heartbeat) VALUES ($1, $2, $3, $4, clock_timestamp()) RETURNING lid",
            binds { $0.append(cid); $0.append(owner.token); $0.append(owner.pid); $0.append(owner.host) }).first!.cells.int64(0)
        leases[cid] = (lid, 0)
    }

    /// Inside a transaction that holds the campaign row: the lease of this process, made
    /// again when others took it over while this process was silent (its rows went with it).
    func ensureLease(cid: Int64, owner: LeaseOwner, seq: Int64) throws -> Int64 {
        if let held = leases[cid] {
            let kept = try session.query("UPDATE lease SET heartbeat = clock_timestamp(), step_seq = $2 WHERE lid = $1 RETURNING lid",
                                         binds { $0.append(held.lid); $0.append(seq) })
            if !kept.isEmpty { return held.lid }
        }
        let lid = try session.query(
            "INSERT INTO lease (cid, token, pid, host, heartbeat, step_seq) VALUES ($1, $2, $3, $4, clock_timestamp(), $5) RETURNING lid",
            binds { $0.append(cid); $0.append(owner.token); $0.append(owner.pid); $0.append(owner.host); $0.append(seq) }
        ).first!.cells.int64(0)
        leases[cid] = (lid, seq)
        return lid
    }

    /// Inside a transaction that holds the campaign row: the rows of senders whose lease
    /// expired go back to pending work. With a provider that dedupes they are sent again
    /// (as retries, their reservation released); otherwise they are `in_doubt`
    /// (`interrupted`), their reservation kept. Either way they keep the expired lease's
    /// epoch (`owner`) until claimed again, so what that sender still reports about them
    /// (an accepted answer, a row it never sent) counts (`Fencing`). Returns the rows left
    /// in doubt.
    @discardableResult
    func takeOver(cid: Int64, resend: Bool) throws -> Int {
        lastTakeover[cid] = .now
        let dead = try session.query("DELETE FROM lease WHERE cid = $1 AND NOT (\(liveLease)) RETURNING lid", binds { $0.append(cid) })
            .map { try $0.cells.int64(0) }
        guard !dead.isEmpty else { return 0 }
        let rule = BulkRule.Interruption(resend: resend, cause: .leaseExpired)
        let moved = try session.query(
            """
            WITH old AS (SELECT row, spend_month, cost FROM message WHERE cid = $1 AND state = \(MessageState.sending.rawValue)
                         AND owner = ANY($2) FOR UPDATE)
            UPDATE message m SET state = $3, reason = $4, doubt = $5, updated_at = $6, not_before = $7,
                spend_month = CASE WHEN $8 THEN m.spend_month END, detail = $9
            FROM old WHERE m.cid = $1 AND m.row = old.row
            RETURNING old.spend_month, old.cost
            """, binds {
                $0.append(cid); $0.append(dead); $0.append(Int16(rule.state.rawValue)); $0.append(rule.reason.rawValue)
                $0.append(rule.doubt.rawValue); $0.append(currentTime()); $0.append(rule.notBefore)
                $0.append(rule.keepsReservation); $0.append(rule.detail)
            })
        try rule.move(moved.count).write(cid: cid, session)
        var ledger = LedgerDeltas()
        for row in moved { ledger.add(rule.ledger(cost: try row.cells.int64(1), month: try row.cells[0].decode(Int?.self))) }
        for delta in ledger.deltas { try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent) }
        // Rows a receipt already answered were accepted.
        return resend ? 0 : moved.count - (try settleReceipted(cid: cid, time: currentTime()))
    }

    @discardableResult
    public func heartbeat(cid: Int64, owner: LeaseOwner) throws(JournalError) -> Bool {
        guard let held = leases[cid] else { return false }
        return try attempt {
            !(try session.query("UPDATE lease SET heartbeat = clock_timestamp() WHERE lid = $1 RETURNING lid",
                                binds { $0.append(held.lid) })).isEmpty
        }
    }

    public var leaseTimeout: Duration { .milliseconds(Int64(target.leaseTimeoutSeconds * 1000)) }

    /// Leaves the campaign. Its state is set unless other senders are still at it, or
    /// the state is one that holds for all (completed, paused, cancelled, budget).
    public func release(cid: Int64, owner: LeaseOwner, state: CampaignState) throws(JournalError) {
        let lid = leases.removeValue(forKey: cid)?.lid ?? -1
        let everyone: [CampaignState] = [.completed, .paused, .cancelled, .budgetExhausted, .scheduled]
        try attempt {
            try session.transaction {
                try session.query("SELECT 1 FROM campaign WHERE cid = $1 FOR UPDATE", binds { $0.append(cid) })
                try session.query("DELETE FROM lease WHERE lid = $1", binds { $0.append(lid) })
                try session.query(
                    """
                    UPDATE campaign SET state = $2, updated_at = $3
                    WHERE cid = $1 AND ($4 OR NOT EXISTS (SELECT 1 FROM lease WHERE lease.cid = $1 AND \(liveLease)))
                    """, binds { $0.append(cid); $0.append(state.rawValue); $0.append(currentTime()); $0.append(everyone.contains(state)) })
            }
        }
        endImport(cid: cid)
    }

    /// Whether a live sender other than this process holds a lease on the campaign.
    public func isLeased(_ record: CampaignRecord) throws(JournalError) -> Bool {
        let mine = leases[record.cid]?.lid ?? -1
        return try attempt {
            try session.query("SELECT EXISTS (SELECT 1 FROM lease WHERE cid = $1 AND lid != $2 AND \(liveLease))",
                              binds { $0.append(record.cid); $0.append(mine) }).first!.cells.bool(0)
        }
    }

    /// Makes in-doubt rows due again (see the SQLite journal's `resendInDoubt`); rows a
    /// delivery receipt answered become `sent` first.
    @discardableResult
    public func resendInDoubt(cid: Int64, providerDedupes: Bool, attemptedBefore: Int64?) throws(JournalError) -> Int {
        let cutoff = attemptedBefore ?? Int64.max
        return try attempt {
            try session.transaction {
                try session.query("SELECT 1 FROM campaign WHERE cid = $1 FOR UPDATE", binds { $0.append(cid) })
                // Rows a receipt answered were accepted: `sent`, never resent.
                _ = try settleReceipted(cid: cid, time: currentTime())
                let rule = BulkRule.ResendInDoubt(providerDedupes: providerDedupes)
                let moved = try session.query(
                    """
                    WITH old AS (SELECT row, spend_month, cost, coalesce(reason, '') AS reason FROM message
                                 WHERE cid = $1 AND state = \(MessageState.inDoubt.rawValue) AND updated_at < $2 FOR UPDATE)
                    UPDATE message m SET state = $4, not_before = $5, spend_month = NULL, updated_at = $3, owner = NULL
                    FROM old WHERE m.cid = $1 AND m.row = old.row
                    RETURNING old.spend_month, old.cost, old.reason
                    """, binds {
                        $0.append(cid); $0.append(cutoff); $0.append(currentTime()); $0.append(Int16(rule.state.rawValue))
                        $0.append(rule.notBefore)
                    })
                var tally = TallyChanges()
                var ledger = LedgerDeltas()
                for row in moved {
                    let c = row.cells
                    tally.merge(rule.move(reason: try c.string(2), 1))
                    ledger.add(rule.ledger(cost: try c.int64(1), month: try c[0].decode(Int?.self)))
                }
                try tally.write(cid: cid, session)
                for delta in ledger.deltas {
                    try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent)
                }
                return moved.count
            }
        }
    }

    /// Adds deltas to the campaign's ledger: its month row, its running total (the
    /// campaign row) and the month's row for its scope. Call with the campaign row locked.
    func adjustLedger(cid: Int64, month: Int, reserved: Int64, spent: Int64) throws {
        guard reserved != 0 || spent != 0 else { return }
        try session.query(
            """
            WITH c AS (UPDATE campaign SET reserved = reserved + $3, spent = spent + $4 WHERE cid = $1 RETURNING channel, ledger_scope),
                 l AS (INSERT INTO ledger (cid, month, channel, reserved, spent) SELECT $1, $2, channel, $3, $4 FROM c
                       ON CONFLICT (cid, month, channel) DO UPDATE SET reserved = ledger.reserved + $3, spent = ledger.spent + $4)
            INSERT INTO month_ledger (scope, channel, month, reserved, spent) SELECT ledger_scope, channel, $2, $3, $4 FROM c
            ON CONFLICT (scope, channel, month) DO UPDATE SET reserved = month_ledger.reserved + $3, spent = month_ledger.spent + $4
            """, binds { $0.append(cid); $0.append(month); $0.append(reserved); $0.append(spent) })
    }
}
