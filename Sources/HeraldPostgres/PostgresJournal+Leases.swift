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
                try waitForImport(cid: cid)
            case .refused(let error):
                throw error
            }
        }
    }

    enum OpenOutcome {
        case opened(CampaignOpening)
        case waitForImport(cid: Int64)
        /// Refused, after what the refusal settles is committed.
        case refused(JournalError)
    }

    /// Another sender imports the campaign: waits until its import lock is free, then
    /// returns (the caller looks again). An importer's session never sits idle for long (it
    /// writes a chunk every few thousand rows); one idle past a lease timeout while holding
    /// the lock (or stalled reading from it, mid-`COPY`) belongs to a frozen sender (SIGSTOP, a suspended VM) that would hold every
    /// other sender back for as long as it stays frozen: its session is ended, which frees
    /// the lock, and this sender imports again. The frozen one, when it wakes, finds its
    /// connection gone and joins (`importing`).
    private func waitForImport(cid: Int64) throws(JournalError) {
        let key = Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: cid)))
        var pause = 0.02
        while true {
            let free = try attempt {
                try session.query(importLock("pg_try_advisory_lock", cid)).first?.cells.bool(0) ?? false
            }
            if free {
                try attempt { try session.query(importLock("pg_advisory_unlock", cid)) }
                return
            }
            try attempt {
                try session.query(
                    """
                    SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = \(Int64(PostgresSchema.importLockSpace))::oid
                        AND l.objid = \(key)::oid AND l.objsubid = 2 AND l.pid <> pg_backend_pid()
                        AND (a.state LIKE 'idle%' OR a.wait_event = 'ClientRead')
                        AND a.state_change < clock_timestamp() - make_interval(secs => \(target.leaseTimeoutSeconds))
                    """)
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 0.5)
        }
    }

    /// `function` (`pg_advisory_lock`, its `try` and `unlock` forms) on the campaign's import lock.
    func importLock(_ function: String, _ cid: Int64) -> PostgresQuery {
        "SELECT \(sql: function)(\(PostgresSchema.importLockSpace), \(Int32(truncatingIfNeeded: cid)))"
    }

    private func openOnce(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
                          unpause: Bool) throws -> OpenOutcome
    {
        let time = currentTime()
        let name = CampaignKey(id: inputs.id, mode: inputs.mode).description
        // Opens of one campaign take turns.
        try session.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.openLockSpace), hashtext(\(name)))")
        let found = try session.query(
            """
            SELECT cid, state, control, template_sha, recipients_sha, purged_at, routes
            FROM campaign
            WHERE id = \(inputs.id) AND mode = \(inputs.mode.rawValue)
            FOR UPDATE
            """)
        guard let row = found.first?.cells else {
            let limits = inputs.limits
            let cid = try session.query(
                """
                INSERT INTO campaign (id, mode, campaign_path, template_sha, recipients_sha, channel, state, created_at,
                    updated_at, ledger_scope, max_price, campaign_limit, monthly_limit, sender, routes)
                VALUES (\(inputs.id), \(inputs.mode.rawValue), \(inputs.campaignPath), \(inputs.templateSHA),
                    \(inputs.recipientsSHA), \(inputs.channel.rawValue), \(literal: CampaignState.importing), \(time), \(time),
                    \(inputs.ledgerScope.rawValue), \(limits.maxPrice?.nanos), \(limits.campaignLimit?.nanos),
                    \(limits.monthlyLimit?.nanos), \(inputs.sender.rawValue), \(OpenRule.storedRoutes(inputs.routes)))
                RETURNING cid
                """).first!.cells.int64(0)
            try session.query(importLock("pg_advisory_lock", cid))
            try register(cid: cid, owner: owner)
            return .opened(.needsImport(cid: cid))
        }
        let cid = try row.int64(0)
        let state = CampaignState(rawValue: try row.string(1) ?? "") ?? .stopped
        let purged = try row.optionalInt64(5) != nil
        if let refusal = OpenRule.refusal(purged: purged, state: state,
                                          control: try row.string(2).flatMap(CampaignControl.init), unpause: unpause) {
            if refusal == CampaignControl.cancel.rawValue, !purged, state == .importing {
                // Cancelled before its import ended. A live importer ends it and cancels its rows at
                // its first step; one that died left rows without counters: they go, and the
                // campaign ends cancelled with none.
                let free = try session.query(importLock("pg_try_advisory_xact_lock", cid)).first!.cells.bool(0)
                if free {
                    for table in ExportedTable.importedTables {
                        try session.query("DELETE FROM \(sql: table) WHERE cid = \(cid)")
                    }
                    try session.query(
                        """
                        UPDATE campaign SET state = \(literal: CampaignState.cancelled), total_rows = 0, updated_at = \(time)
                        WHERE cid = \(cid)
                        """)
                }
            } else if refusal == CampaignControl.cancel.rawValue, !purged {
                // A cancel whose senders died before they saw the request is finished here: the
                // rows they had in flight may have been delivered, so they are in doubt (or sent
                // where a receipt says so), never left `sending` for ever (journey seeds 60062 and
                // 60086: receipts then made delivered exceed sent). Live senders finish it themselves.
                _ = try takeOver(cid: cid, resend: false)
                try skipUnsent(cid: cid)
                try session.query(
                    """
                    UPDATE campaign SET state = \(literal: CampaignState.cancelled), updated_at = \(time)
                    WHERE cid = \(cid) AND NOT EXISTS (SELECT 1 FROM lease WHERE lease.cid = \(cid) AND \(sql: liveLease))
                    """)
            }
            return .refused(JournalError.controlled(campaign: name, control: refusal, path: location))
        }
        var reimport = false
        if state == .importing {
            // Held by a live importer: wait for it. Not held: its importer died; import again.
            let free = try session.query(importLock("pg_try_advisory_lock", cid)).first!.cells.bool(0)
            guard free else { return .waitForImport(cid: cid) }
            reimport = true
        }
        let routes = try row.string(6)
        let changed: (file: String, path: String)? =
            try row.string(3) != inputs.templateSHA ? ("template", templatePath)
            : try row.string(4) != inputs.recipientsSHA ? ("recipient CSV", recipientsPath)
            : OpenRule.routeChange(stored: routes, now: inputs.routes).map { ($0, inputs.campaignPath) }
        if let changed, !reimport {
            let startedStates = BulkRule.startedStates.map { Int16($0.rawValue) }
            let started = try session.query(
                "SELECT EXISTS (SELECT 1 FROM tally WHERE cid = \(cid) AND n > 0 AND state = ANY(\(startedStates)))")
            if try started.first!.cells.bool(0) {
                throw JournalError.inputsChanged(campaign: name, file: changed.file, changed: changed.path, path: location)
            }
            let free = try session.query(importLock("pg_try_advisory_lock", cid)).first!.cells.bool(0)
            guard free else { return .waitForImport(cid: cid) }
            reimport = true
        }
        let limits = inputs.limits
        let keeps = OpenRule.keepsStopReason(state: state, shared: sharesCampaigns)
        try session.query(
            """
            UPDATE campaign SET id = \(inputs.id), mode = \(inputs.mode.rawValue), campaign_path = \(inputs.campaignPath),
                template_sha = \(inputs.templateSHA), recipients_sha = \(inputs.recipientsSHA), channel = \(inputs.channel.rawValue),
                state = CASE WHEN \(reimport) THEN \(literal: CampaignState.importing) ELSE state END, updated_at = \(time),
                ledger_scope = \(inputs.ledgerScope.rawValue), max_price = \(limits.maxPrice?.nanos),
                campaign_limit = \(limits.campaignLimit?.nanos), monthly_limit = \(limits.monthlyLimit?.nanos),
                sender = \(inputs.sender.rawValue), control = NULL, routes = \(OpenRule.storedRoutes(inputs.routes) ?? routes),
                stop_reason = CASE WHEN \(keeps) THEN stop_reason END, stop_kind = CASE WHEN \(keeps) THEN stop_kind END
            WHERE cid = \(cid)
            """)
        try register(cid: cid, owner: owner)
        if reimport {
            for table in ExportedTable.importedTables { try session.query("DELETE FROM \(sql: table) WHERE cid = \(cid)") }
            return .opened(.needsImport(cid: cid))
        }
        let recovered = try takeOver(cid: cid, resend: inputs.providerDedupes)
        return .opened(.ready(cid: cid, recoveredInDoubt: recovered))
    }

    /// This process's lease row for the campaign (a new one after a takeover removed it).
    private func register(cid: Int64, owner: LeaseOwner) throws {
        if let held = leases[cid] {
            try session.query("DELETE FROM lease WHERE lid = \(held.lid)")
        }
        let lid = try session.query(
            """
            INSERT INTO lease (cid, token, pid, host, heartbeat)
            VALUES (\(cid), \(owner.token), \(owner.pid), \(owner.host), clock_timestamp())
            RETURNING lid
            """).first!.cells.int64(0)
        leases[cid] = (lid, 0)
    }

    /// Inside a transaction that holds the campaign row: the lease of this process, made
    /// again when others took it over while this process was silent (its rows went with it).
    func ensureLease(cid: Int64, owner: LeaseOwner, seq: Int64) throws -> Int64 {
        if let held = leases[cid] {
            let kept = try session.query(
                """
                UPDATE lease
                SET heartbeat = clock_timestamp(), step_seq = \(seq)
                WHERE lid = \(held.lid)
                RETURNING lid
                """)
            if !kept.isEmpty { return held.lid }
        }
        let lid = try session.query(
            """
            INSERT INTO lease (cid, token, pid, host, heartbeat, step_seq)
            VALUES (\(cid), \(owner.token), \(owner.pid), \(owner.host), clock_timestamp(), \(seq))
            RETURNING lid
            """).first!.cells.int64(0)
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
        let dead = try session.query("DELETE FROM lease WHERE cid = \(cid) AND NOT (\(sql: liveLease)) RETURNING lid")
            .map { try $0.cells.int64(0) }
        guard !dead.isEmpty else { return 0 }
        let rule = BulkRule.Interruption(resend: resend, cause: .leaseExpired)
        let moved = try session.query(
            """
            WITH old AS (SELECT row, spend_month, cost FROM message WHERE cid = \(cid) AND state = \(MessageState.sending)
                         AND owner = ANY(\(dead)) FOR UPDATE)
            UPDATE message m SET state = \(Int16(rule.state.rawValue)), reason = \(rule.reason.rawValue),
                doubt = \(rule.doubt.rawValue), updated_at = \(currentTime()), not_before = \(rule.notBefore),
                spend_month = CASE WHEN \(rule.keepsReservation) THEN m.spend_month END, detail = \(rule.detail),
                earlier_spent = CASE WHEN old.spend_month IS NOT NULL THEN coalesce(\(rule.earlierSpent.map(Int16.init)), m.earlier_spent)
                                     ELSE m.earlier_spent END
            FROM old WHERE m.cid = \(cid) AND m.row = old.row
            RETURNING old.spend_month, old.cost
            """)
        try rule.move(moved.count).write(cid: cid, session)
        var ledger = LedgerDeltas()
        for row in moved { ledger.add(rule.ledger(cost: try row.cells.int64(1), month: try row.cells[0].decode(Int?.self))) }
        for delta in ledger.deltas { try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent) }
        // Rows a receipt already answered were accepted: `sent`, never in doubt or sent again
        // (journey seeds 20357 and 20780: made due again, they counted delivered, not sent).
        let settled = try settleReceipted(cid: cid, in: rule.state, time: currentTime())
        return resend ? 0 : moved.count - settled
    }

    @discardableResult
    public func heartbeat(cid: Int64, owner: LeaseOwner) throws(JournalError) -> Bool {
        guard let held = leases[cid] else { return false }
        return try attempt {
            !(try session.query("UPDATE lease SET heartbeat = clock_timestamp() WHERE lid = \(held.lid) RETURNING lid")).isEmpty
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
                let control = try session.query("SELECT control FROM campaign WHERE cid = \(cid) FOR UPDATE").first?.cells
                    .string(0).flatMap(CampaignControl.init)
                let state = ReleaseRule.state(leaving: state, control: control)
                try session.query("DELETE FROM lease WHERE lid = \(lid)")
                try session.query(
                    """
                    UPDATE campaign SET state = \(state.rawValue), updated_at = \(currentTime())
                    WHERE cid = \(cid) AND (\(everyone.contains(state)) OR NOT EXISTS (SELECT 1 FROM lease
                        WHERE lease.cid = \(cid) AND \(sql: liveLease)))
                    """)
            }
        }
        endImport(cid: cid)
    }

    /// Whether a live sender other than this process holds a lease on the campaign.
    public func isLeased(_ record: CampaignRecord) throws(JournalError) -> Bool {
        let mine = leases[record.cid]?.lid ?? -1
        return try attempt {
            try session.query(
                "SELECT EXISTS (SELECT 1 FROM lease WHERE cid = \(record.cid) AND lid != \(mine) AND \(sql: liveLease))"
            ).first!.cells.bool(0)
        }
    }

    /// Makes in-doubt rows due again (see the SQLite journal's `resendInDoubt`); rows a
    /// delivery receipt answered become `sent` first.
    @discardableResult
    public func resendInDoubt(cid: Int64, providerDedupes: Bool, attemptedBefore: Int64?) throws(JournalError) -> Int {
        let cutoff = attemptedBefore ?? Int64.max
        return try attempt {
            try session.transaction {
                try session.query("SELECT 1 FROM campaign WHERE cid = \(cid) FOR UPDATE")
                // Rows a receipt answered were accepted: `sent`, never resent.
                _ = try settleReceipted(cid: cid, time: currentTime())
                let rule = BulkRule.ResendInDoubt(providerDedupes: providerDedupes)
                let moved = try session.query(
                    """
                    WITH old AS (SELECT row, spend_month, cost, coalesce(reason, '') AS reason FROM message
                                 WHERE cid = \(cid) AND state = \(MessageState.inDoubt) AND updated_at < \(cutoff) FOR UPDATE)
                    UPDATE message m SET state = \(Int16(rule.state.rawValue)), not_before = \(rule.notBefore),
                        earlier_spent = CASE WHEN old.spend_month IS NOT NULL THEN \(Int16(rule.earlierSpent))
                                             ELSE m.earlier_spent END,
                        spend_month = NULL, updated_at = \(currentTime()), owner = NULL
                    FROM old WHERE m.cid = \(cid) AND m.row = old.row
                    RETURNING old.spend_month, old.cost, old.reason
                    """)
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
            WITH c AS (UPDATE campaign SET reserved = reserved + \(reserved), spent = spent + \(spent) WHERE cid = \(cid)
                RETURNING channel, ledger_scope),
                 l AS (INSERT INTO ledger (cid, month, channel, reserved, spent) SELECT \(cid), \(month), channel, \(reserved),
                     \(spent) FROM c
                       ON CONFLICT (cid, month, channel) DO UPDATE SET reserved = ledger.reserved + \(reserved),
                           spent = ledger.spent + \(spent))
            INSERT INTO month_ledger (scope, channel, month, reserved, spent) SELECT ledger_scope, channel, \(month),
                \(reserved), \(spent) FROM c
            ON CONFLICT (scope, channel, month) DO UPDATE SET reserved = month_ledger.reserved + \(reserved),
                spent = month_ledger.spent + \(spent)
            """)
    }
}
