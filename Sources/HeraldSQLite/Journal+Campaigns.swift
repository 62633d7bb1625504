import Foundation
import HeraldCore
import HeraldJournal

extension Journal {
    /// The columns a campaign record is decoded from (by name; `lease_token` comes after them).
    static let campaignColumns = CampaignRecord.columns.joined(separator: ", ")

    public func campaign(id: String, mode: RunMode = .real) throws(JournalError) -> CampaignRecord? {
        try read {
            let statement = try db.statement("SELECT \(Self.campaignColumns) FROM campaign WHERE id = ?1 AND mode = ?2")
            statement.bind(1, id).bind(2, mode.rawValue)
            return try statement.step() ? try Self.campaignRecord(statement) : nil
        }
    }

    public func campaigns() throws(JournalError) -> [CampaignRecord] {
        try read {
            let statement = try db.statement("SELECT \(Self.campaignColumns) FROM campaign ORDER BY created_at, cid")
            var records: [CampaignRecord] = []
            while try statement.step() { records.append(try Self.campaignRecord(statement)) }
            return records
        }
    }

    static func campaignRecord(_ s: Statement) throws -> CampaignRecord {
        try CampaignRecord(row: StatementRow(s))
    }

    /// Takes the campaign's lease in one transaction, creating the campaign if it is
    /// new. Refuses while another live process holds it, and refuses changed inputs
    /// once any row has left `pending`. Rows left `sending` by a dead process become
    /// `in_doubt` (reason `interrupted`).
    /// A paused campaign is refused unless `unpause` (an explicit run or resume);
    /// a cancelled one always, after the rows a dead sender left `sending` are settled as
    /// an open would (the cancel is finished for it).
    public func open(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
                     unpause: Bool = true) throws(JournalError) -> CampaignOpening
    {
        let time = now()
        let outcome: Result<CampaignOpening, JournalError> = try write {
            let existing = try db.statement(
                "SELECT \(Self.campaignColumns), lease_token FROM campaign WHERE id = ?1 AND mode = ?2")
            existing.bind(1, inputs.id).bind(2, inputs.mode.rawValue)
            guard try existing.step() else {
                existing.reset()
                let insert = try db.statement(
                    """
                    INSERT INTO campaign (id, mode, campaign_path, template_sha, recipients_sha, channel, state, created_at,
                        updated_at, lease_token, lease_pid, lease_host, lease_heartbeat, ledger_scope, max_price,
                        campaign_limit, monthly_limit, sender, routes)
                    VALUES (?1, ?14, ?2, ?3, ?4, ?5, \(CampaignState.importing.sql), ?6, ?6, ?7, ?8, ?9, ?6, ?10, ?11, ?12, ?13, ?15,
                        ?16)
                    """)
                insert.bind(1, inputs.id).bind(2, inputs.campaignPath).bind(3, inputs.templateSHA)
                    .bind(4, inputs.recipientsSHA).bind(5, inputs.channel.rawValue).bind(6, time).bind(7, owner.token)
                    .bind(8, owner.pid).bind(9, owner.host).bind(10, inputs.ledgerScope.rawValue)
                    .bind(11, inputs.limits.maxPrice?.nanos).bind(12, inputs.limits.campaignLimit?.nanos)
                    .bind(13, inputs.limits.monthlyLimit?.nanos).bind(14, inputs.mode.rawValue)
                    .bind(15, inputs.sender.rawValue).bind(16, OpenRule.storedRoutes(inputs.routes))
                try insert.run()
                return .success(.needsImport(cid: db.lastInsertRowID))
            }
            let record = try Self.campaignRecord(existing)
            let token = existing.string(24)
            existing.reset()
            if owner.considersLive(token: token, pid: record.leasePID, host: record.leaseHost,
                                   heartbeat: record.leaseHeartbeat, now: time) {
                throw JournalError(.leased(campaign: record.name, pid: record.leasePID ?? 0, host: record.leaseHost ?? "?"), path: path)
            }
            if let refusal = OpenRule.refusal(purged: record.purgedAt != nil, state: record.state, control: record.control,
                                              unpause: unpause) {
                if refusal == CampaignControl.cancel.rawValue, record.purgedAt == nil {
                    // Nobody live holds it (checked above): a cancel whose sender died before it
                    // saw the request is finished here. Rows that sender had in flight may have
                    // been delivered: in doubt, or sent where a receipt says so (journey seeds
                    // 60062 and 60086: they stayed `sending` for ever, and receipts made
                    // delivered exceed sent).
                    _ = try recoverInterrupted(cid: record.cid, time: time)
                    try skipUnsent(cid: record.cid)
                    let cancelled = try db.statement(
                        """
                        UPDATE campaign SET state = \(CampaignState.cancelled.sql), updated_at = ?2, lease_token = NULL,
                            lease_pid = NULL, lease_host = NULL, lease_heartbeat = NULL
                        WHERE cid = ?1
                        """)
                    cancelled.bind(1, record.cid).bind(2, time)
                    try cancelled.run()
                }
                return .failure(JournalError(.controlled(campaign: record.name, control: refusal), path: path))
            }
            let routes = try storedRoutes(cid: record.cid)
            let changed: (file: String, path: String)? =
                record.templateSHA != inputs.templateSHA ? ("template", templatePath)
                : record.recipientsSHA != inputs.recipientsSHA ? ("recipient CSV", recipientsPath)
                : OpenRule.routeChange(stored: routes, now: inputs.routes).map { ($0, inputs.campaignPath) }
            var reimport = record.state == .importing
            if let changed {
                if try hasStarted(cid: record.cid) {
                    throw JournalError(.inputsChanged(campaign: record.name, file: changed.file, path: changed.path), path: path)
                }
                reimport = true
            }
            let update = try db.statement(
                """
                UPDATE campaign SET campaign_path = ?2, template_sha = ?3, recipients_sha = ?4, channel = ?5,
                    state = CASE WHEN ?6 THEN \(CampaignState.importing.sql) ELSE state END, updated_at = ?7,
                    lease_token = ?8, lease_pid = ?9, lease_host = ?10, lease_heartbeat = ?7, ledger_scope = ?11,
                    max_price = ?12, campaign_limit = ?13, monthly_limit = ?14,
                    stop_reason = CASE WHEN ?16 THEN stop_reason END, stop_kind = CASE WHEN ?16 THEN stop_kind END,
                    control = NULL, sender = ?15, routes = ?17
                WHERE cid = ?1
                """)
            update.bind(1, record.cid).bind(2, inputs.campaignPath).bind(3, inputs.templateSHA)
                .bind(4, inputs.recipientsSHA).bind(5, inputs.channel.rawValue).bind(6, reimport ? 1 : 0).bind(7, time)
                .bind(8, owner.token).bind(9, owner.pid).bind(10, owner.host).bind(11, inputs.ledgerScope.rawValue)
                .bind(12, inputs.limits.maxPrice?.nanos).bind(13, inputs.limits.campaignLimit?.nanos)
                .bind(14, inputs.limits.monthlyLimit?.nanos).bind(15, inputs.sender.rawValue)
                .bind(16, OpenRule.keepsStopReason(state: record.state, shared: sharesCampaigns) ? 1 : 0)
                .bind(17, OpenRule.storedRoutes(inputs.routes) ?? routes)
            try update.run()
            if reimport {
                try deleteRows(cid: record.cid)
                return .success(.needsImport(cid: record.cid))
            }
            return .success(.ready(cid: record.cid, recoveredInDoubt: try recoverInterrupted(cid: record.cid, time: time)))
        }
        return try outcome.get()
    }

    /// Rows still `sending` were in flight when their process died: each may have been
    /// delivered, so each becomes `in_doubt` with reason `interrupted` (the journal's
    /// interruption rule; this journal's senders resend in-doubt rows only when asked).
    private func recoverInterrupted(cid: Int64, time: Int64) throws -> Int {
        let rule = BulkRule.Interruption(resend: false, cause: .processDied)
        let doubt = try db.statement(
            """
            UPDATE \(MessageState.sending.table) SET state = ?3, reason = ?4, doubt = ?5, detail = ?6, updated_at = ?2
            WHERE cid = ?1 AND state = \(MessageState.sending.sql)
            """)
        doubt.bind(1, cid).bind(2, time).bind(3, rule.state.rawValue).bind(4, rule.reason.rawValue)
            .bind(5, rule.doubt.rawValue).bind(6, rule.detail)
        try doubt.run()
        let count = db.changes
        try apply(rule.move(count), cid: cid)
        return count - (try settleReceipted(cid: cid, time: time))
    }

    /// Asks whoever sends the campaign to pause or cancel (or records it for the next
    /// sender). Cancelling also skips every row not yet sent. Returns false for an
    /// unknown campaign.
    public func request(_ control: CampaignControl, campaign id: String, mode: RunMode = .real) throws(JournalError) -> Bool {
        try write {
            let find = try db.statement("SELECT cid FROM campaign WHERE id = ?1 AND mode = ?2")
            find.bind(1, id).bind(2, mode.rawValue)
            guard try find.step() else {
                find.reset()
                return false
            }
            let cid = find.int64(0)
            find.reset()
            let statement = try db.statement(
                "UPDATE campaign SET control = ?2, updated_at = ?3 WHERE cid = ?1 AND state NOT IN (\(CampaignState.completed.sql), \(CampaignState.cancelled.sql))")
            statement.bind(1, cid).bind(2, control.rawValue).bind(3, now())
            try statement.run()
            if db.changes == 0 { return true }
            if control == .cancel { try skipUnsent(cid: cid) }
            // Nobody is sending it: the campaign takes the new state now.
            let idle = try db.statement("UPDATE campaign SET state = ?2 WHERE cid = ?1 AND lease_token IS NULL")
            idle.bind(1, cid).bind(2, (control == .cancel ? CampaignState.cancelled : .paused).rawValue)
            try idle.run()
            return true
        }
    }

    /// Cancelling: every row still to send (pending or waiting) is skipped.
    private func skipUnsent(cid: Int64) throws {
        let rule = BulkRule.Cancellation.self
        let states = rule.states.map(\.sql).joined(separator: ", ")
        // Rows whose earlier attempt may have been delivered: in doubt, not cancelled.
        var changes = TallyChanges()
        var doubtedCounts: [TallyKey: Int] = [:]
        let doubted = try db.statement(
            """
            SELECT state, reason, doubt, count(*) FROM message WHERE cid = ?1 AND state IN (\(states)) AND doubt IS NOT NULL
            GROUP BY 1, 2, 3
            """)
        doubted.bind(1, cid)
        while try doubted.step() {
            guard let state = MessageState(rawValue: doubted.int(0)), let doubt = doubted.string(2) else { continue }
            let from = TallyKey(state, code: doubted.string(1))
            changes.merge(rule.moveDoubted(from: from, doubt: doubt, doubted.int(3)))
            doubtedCounts[from, default: 0] += doubted.int(3)
        }
        doubted.reset()
        let toDoubt = try db.statement(
            """
            UPDATE message SET state = \(rule.doubtedState.sql), reason = doubt, not_before = NULL, updated_at = ?2,
                detail = ?3 || doubt || ')'
            WHERE cid = ?1 AND state IN (\(states)) AND doubt IS NOT NULL
            """)
        toDoubt.bind(1, cid).bind(2, now()).bind(3, rule.doubtedDetailPrefix)
        try toDoubt.run()
        for state in rule.states {
            for (code, count) in try tally(cid: cid, state: state) {
                let key = TallyKey(state, code: code)
                changes.merge(rule.move(from: key, count - doubtedCounts[key, default: 0]))
            }
        }
        // What the skipped rows take from the report's estimate, per country, before they change.
        var report = ReportCounters()
        let costs = try db.statement(
            """
            SELECT region, sum(cost) FROM \(MessageState.retry.table) WHERE cid = ?1 AND state = \(MessageState.retry.sql) GROUP BY region
            UNION ALL
            SELECT region, sum(cost) FROM message
            WHERE cid = ?1 AND row > (SELECT pending_after FROM campaign WHERE cid = ?1) AND state = \(MessageState.pending.sql)
            GROUP BY region
            """)
        costs.bind(1, cid)
        let time = now()
        while try costs.step() {
            report.move(region: costs.string(0), cost: costs.int64(1), from: .pending, at: time,
                        to: BulkRule.Cancellation.state, at: time)
        }
        costs.reset()
        let set = "SET state = ?3, reason = ?4, not_before = NULL, updated_at = ?2"
        let retries = try db.statement("UPDATE \(MessageState.retry.table) \(set) WHERE cid = ?1 AND state = \(MessageState.retry.sql)")
        let pending = try db.statement(
            """
            UPDATE message \(set)
            WHERE cid = ?1 AND row > (SELECT pending_after FROM campaign WHERE cid = ?1) AND state = \(MessageState.pending.sql)
            """)
        for statement in [retries, pending] {
            statement.bind(1, cid).bind(2, now()).bind(3, BulkRule.Cancellation.state.rawValue)
                .bind(4, BulkRule.Cancellation.reason.rawValue)
            try statement.run()
        }
        try apply(changes, cid: cid)
        try apply(report, cid: cid)
        try spendDoubtedReservations(cid: cid)
    }

    /// A cancelled campaign's in-doubt rows keep no reservation: counted spent
    /// (`BulkRule.Cancellation.spendReservation`).
    private func spendDoubtedReservations(cid: Int64) throws {
        let rule = BulkRule.Cancellation.self
        let sums = try db.statement(
            """
            SELECT spend_month, sum(cost) FROM \(MessageState.inDoubt.table)
            WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND spend_month IS NOT NULL GROUP BY spend_month
            """)
        sums.bind(1, cid)
        var ledger = LedgerDeltas()
        while try sums.step() { ledger.add(rule.spendReservation(cost: sums.int64(1), month: sums.int(0))) }
        sums.reset()
        guard !ledger.deltas.isEmpty else { return }
        try adjustLedger(cid: cid, channel: try channel(cid: cid), ledger)
        let rows = try db.statement(
            """
            UPDATE \(MessageState.inDoubt.table) SET spend_month = NULL, earlier_spent = ?2
            WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND spend_month IS NOT NULL
            """)
        rows.bind(1, cid).bind(2, rule.earlierSpentMark)
        try rows.run()
    }

    /// The pending request for a campaign, if any (read by its sender).
    public func control(cid: Int64) throws(JournalError) -> CampaignControl? {
        try read { try controlNow(cid: cid) }
    }

    func controlNow(cid: Int64) throws -> CampaignControl? {
        try campaignValue("control", cid: cid) { $0.string(0).flatMap(CampaignControl.init) }
    }

    /// One column of a campaign's row.
    func campaignValue<T>(_ column: String, cid: Int64, _ read: (Statement) -> T) throws -> T {
        let statement = try db.statement("SELECT \(column) FROM campaign WHERE cid = ?1")
        statement.bind(1, cid)
        defer { statement.reset() }
        _ = try statement.step()
        return read(statement)
    }

    /// Notes when a worker is to start an imported campaign (release it as `scheduled`).
    public func schedule(cid: Int64, at time: Int64) throws(JournalError) {
        try write {
            let statement = try db.statement(
                "UPDATE campaign SET scheduled_at = ?2, updated_at = ?3, sender = '\(Sender.worker.rawValue)' WHERE cid = ?1")
            statement.bind(1, cid).bind(2, time).bind(3, now())
            try statement.run()
        }
    }

    /// Whether another live process holds the campaign's lease.
    public func isLeased(_ record: CampaignRecord) throws(JournalError) -> Bool {
        try read {
            let statement = try db.statement("SELECT lease_token FROM campaign WHERE cid = ?1")
            statement.bind(1, record.cid)
            defer { statement.reset() }
            _ = try statement.step()
            return LeaseOwner().considersLive(token: statement.string(0), pid: record.leasePID, host: record.leaseHost,
                                              heartbeat: record.leaseHeartbeat, now: now())
        }
    }

    /// Removes a campaign and everything recorded for it (used for dry runs, which
    /// start afresh each time; never for a campaign that really sent).
    public func discardCampaign(id: String, mode: RunMode) throws(JournalError) {
        try write {
            let where_ = "cid IN (SELECT cid FROM campaign WHERE id = ?1 AND mode = ?2)"
            for table in ExportedTable.discardedTables + ["campaign"] {
                let statement = try db.statement("DELETE FROM \(table) WHERE \(where_)")
                statement.bind(1, id).bind(2, mode.rawValue)
                try statement.run()
            }
        }
    }

    /// Removes a campaign whose import failed: nothing of it was ever sent.
    public func discardImport(cid: Int64) throws(JournalError) {
        try write {
            try deleteRows(cid: cid)
            let campaign = try db.statement("DELETE FROM campaign WHERE cid = ?1 AND state = \(CampaignState.importing.sql)")
            campaign.bind(1, cid)
            try campaign.run()
        }
    }

    /// True once any row of the campaign has been claimed (from the counters).
    func hasStarted(cid: Int64) throws -> Bool {
        let statement = try db.statement(
            """
            SELECT EXISTS (SELECT 1 FROM tally WHERE cid = ?1 AND n > 0
                AND state IN (\(BulkRule.startedStates.map(\.sql).joined(separator: ", "))))
            """)
        statement.bind(1, cid)
        _ = try statement.step()
        defer { statement.reset() }
        return statement.int(0) != 0
    }

    /// Refreshes the lease's heartbeat; false when another process holds the lease now.
    @discardableResult
    public func heartbeat(cid: Int64, owner: LeaseOwner) throws(JournalError) -> Bool {
        try write { try touchLease(cid: cid, owner: owner) }
    }

    /// A holder on another host is taken over 30 s after its last heartbeat.
    public var leaseTimeout: Duration { .milliseconds(LeaseLiveness.staleAfterMilliseconds) }

    @discardableResult
    func touchLease(cid: Int64, owner: LeaseOwner) throws -> Bool {
        let statement = try db.statement(
            "UPDATE campaign SET lease_heartbeat = ?3 WHERE cid = ?1 AND lease_token = ?2")
        statement.bind(1, cid).bind(2, owner.token).bind(3, now())
        try statement.run()
        return db.changes == 1
    }

    /// Gives the lease up and records where the campaign stands.
    public func release(cid: Int64, owner: LeaseOwner, state: CampaignState) throws(JournalError) {
        try write {
            let state = ReleaseRule.state(leaving: state, control: try controlNow(cid: cid))
            let statement = try db.statement(
                """
                UPDATE campaign SET state = ?3, updated_at = ?4, lease_token = NULL, lease_pid = NULL,
                    lease_host = NULL, lease_heartbeat = NULL
                WHERE cid = ?1 AND lease_token = ?2
                """)
            statement.bind(1, cid).bind(2, owner.token).bind(3, state.rawValue).bind(4, now())
            try statement.run()
        }
    }

    public func setState(cid: Int64, _ state: CampaignState) throws(JournalError) {
        try write {
            let statement = try db.statement("UPDATE campaign SET state = ?2, updated_at = ?3 WHERE cid = ?1")
            statement.bind(1, cid).bind(2, state.rawValue).bind(3, now())
            try statement.run()
        }
    }

    /// Makes in-doubt rows due for sending again; they remember why they were in doubt,
    /// so later transient failures leave them in doubt rather than failed. Their
    /// reservation is released when the provider dedupes (a resend costs nothing if
    /// the first got through); otherwise it is counted as spent, since the first
    /// request may have been delivered and the resend reserves again.
    ///
    /// Rows a delivery receipt answered become `sent` first. With `attemptedBefore`
    /// (now minus `--receipt-grace`), only rows whose last attempt is older are resent:
    /// younger ones may still get their receipt.
    @discardableResult
    public func resendInDoubt(cid: Int64, providerDedupes: Bool, attemptedBefore: Int64? = nil) throws(JournalError) -> Int {
        try write {
            _ = try settleReceipted(cid: cid, time: now())
            let cutoff = attemptedBefore ?? Int64.max
            let channel = try channel(cid: cid)
            let sums = try db.statement(
                """
                SELECT spend_month, sum(cost) FROM \(MessageState.inDoubt.table)
                WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND spend_month IS NOT NULL AND updated_at < ?2
                GROUP BY spend_month
                """)
            sums.bind(1, cid).bind(2, cutoff)
            let rule = BulkRule.ResendInDoubt(providerDedupes: providerDedupes)
            var ledger = LedgerDeltas()
            while try sums.step() { ledger.add(rule.ledger(cost: sums.int64(1), month: sums.int(0))) }
            sums.reset()
            try adjustLedger(cid: cid, channel: channel, ledger)
            var changes = TallyChanges()
            let reasons = try db.statement(
                """
                SELECT reason, count(*) FROM \(MessageState.inDoubt.table)
                WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND updated_at < ?2 GROUP BY reason
                """)
            reasons.bind(1, cid).bind(2, cutoff)
            while try reasons.step() { changes.merge(rule.move(reason: reasons.string(0), reasons.int(1))) }
            reasons.reset()
            let statement = try db.statement(
                """
                UPDATE \(MessageState.inDoubt.table) SET state = ?4, not_before = ?5, spend_month = NULL, updated_at = ?2,
                    earlier_spent = CASE WHEN spend_month IS NOT NULL THEN ?6 ELSE earlier_spent END
                WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND updated_at < ?3
                """)
            statement.bind(1, cid).bind(2, now()).bind(3, cutoff).bind(4, rule.state.rawValue).bind(5, rule.notBefore)
                .bind(6, rule.earlierSpent)
            try statement.run()
            let count = db.changes
            try apply(changes, cid: cid)
            return count
        }
    }

    /// In-doubt rows whose last attempt is at or after `since`: still inside the
    /// receipt grace period, so `--resend-in-doubt` leaves them for now.
    public func inDoubtWithinGrace(cid: Int64, since: Int64) throws(JournalError) -> Int {
        try read {
            let statement = try db.statement(
                """
                SELECT count(*) FROM \(MessageState.inDoubt.table)
                WHERE cid = ?1 AND state = \(MessageState.inDoubt.sql) AND updated_at >= ?2
                """)
            statement.bind(1, cid).bind(2, since)
            defer { statement.reset() }
            _ = try statement.step()
            return statement.int(0)
        }
    }

    /// Records why a campaign stopped early (shown by `status`), or clears it.
    public func setStop(cid: Int64, kind: StopKind?, description: String?) throws(JournalError) {
        try write {
            let statement = try db.statement("UPDATE campaign SET stop_reason = ?2, stop_kind = ?3 WHERE cid = ?1")
            statement.bind(1, cid).bind(2, description).bind(3, kind?.rawValue)
            try statement.run()
        }
    }

    public func startRun(cid: Int64, mode: RunMode, owner: LeaseOwner) throws(JournalError) -> Int64 {
        try write {
            let statement = try db.statement(
                "INSERT INTO run (cid, mode, pid, host, started_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            statement.bind(1, cid).bind(2, mode.rawValue).bind(3, owner.pid).bind(4, owner.host).bind(5, now())
            try statement.run()
            return db.lastInsertRowID
        }
    }

    public func endRun(rid: Int64, outcome: String, sent: Int) throws(JournalError) {
        try write {
            let statement = try db.statement("UPDATE run SET ended_at = ?2, outcome = ?3, sent = ?4 WHERE rid = ?1")
            statement.bind(1, rid).bind(2, now()).bind(3, outcome).bind(4, sent)
            try statement.run()
        }
    }
}

extension Journal {
    public func resumeForWorker(id: String, mode: RunMode = .real) throws(JournalError) -> Bool {
        try write {
            let statement = try db.statement(
                """
                UPDATE campaign SET control = NULL, state = \(CampaignState.scheduled.sql), scheduled_at = ?3, updated_at = ?3,
                    sender = '\(Sender.worker.rawValue)', stop_reason = NULL, stop_kind = NULL
                WHERE id = ?1 AND mode = ?2 AND lease_token IS NULL
                    AND (state = \(CampaignState.paused.sql) OR control = '\(CampaignControl.pause.rawValue)')
                """)
            statement.bind(1, id).bind(2, mode.rawValue).bind(3, now())
            try statement.run()
            return db.changes == 1
        }
    }
}

extension Journal {
    /// The `providers:` names a campaign was opened with (nil: one provider, or a journal from
    /// before they were kept).
    public func exportedRoutes(_ record: CampaignRecord) throws(JournalError) -> String? {
        try read { try storedRoutes(cid: record.cid) }
    }

    func storedRoutes(cid: Int64) throws -> String? {
        let select = try db.statement("SELECT routes FROM campaign WHERE cid = ?1")
        select.bind(1, cid)
        defer { select.reset() }
        return try select.step() ? select.string(0) : nil
    }
}
