import Foundation
import HeraldCore

/// What a campaign is sent from: identity of its inputs, checked on every start.
public struct CampaignInputs: Sendable {
    public var id: String
    public var campaignPath: String
    public var templateSHA: String
    public var recipientsSHA: String
    public var channel: String
    /// Campaigns share a monthly ledger only within one scope: `real` or `simulated`.
    public var ledgerScope: String
    public var limits: BudgetLimits

    public init(id: String, campaignPath: String, templateSHA: String, recipientsSHA: String, channel: String,
                ledgerScope: String = "real", limits: BudgetLimits = BudgetLimits()) {
        self.id = id
        self.campaignPath = campaignPath
        self.templateSHA = templateSHA
        self.recipientsSHA = recipientsSHA
        self.channel = channel
        self.ledgerScope = ledgerScope
        self.limits = limits
    }
}

/// A campaign as the journal holds it.
public struct CampaignRecord: Sendable {
    public let cid: Int64
    public let id: String
    public let campaignPath: String
    public let templateSHA: String
    public let recipientsSHA: String
    public let channel: String
    public let state: CampaignState
    public let totalRows: Int
    public let createdAt: Int64
    public let updatedAt: Int64
    public let leasePID: Int?
    public let leaseHost: String?
    public let leaseHeartbeat: Int64?
    public let ledgerScope: String
    public let limits: BudgetLimits
    public let stopReason: String?
    public let control: CampaignControl?
    public let scheduledAt: Int64?
}

/// The outcome of taking a campaign's lease.
public enum CampaignOpening: Sendable {
    /// New, or an import that never finished: rows must be imported (none are there).
    case needsImport(cid: Int64)
    /// Imported; `recoveredInDoubt` rows were `sending` under a process that died.
    case ready(cid: Int64, recoveredInDoubt: Int)
}

extension Journal {
    static let campaignColumns = """
        cid, id, campaign_path, template_sha, recipients_sha, channel, state, total_rows, created_at, updated_at, \
        lease_pid, lease_host, lease_heartbeat, ledger_scope, max_price, campaign_limit, monthly_limit, stop_reason, \
        control, scheduled_at
        """

    public func campaign(id: String) throws(JournalError) -> CampaignRecord? {
        try read {
            let statement = try db.statement("SELECT \(Self.campaignColumns) FROM campaign WHERE id = ?1")
            statement.bind(1, id)
            return try statement.step() ? Self.campaignRecord(statement) : nil
        }
    }

    public func campaigns() throws(JournalError) -> [CampaignRecord] {
        try read {
            let statement = try db.statement("SELECT \(Self.campaignColumns) FROM campaign ORDER BY created_at, cid")
            var records: [CampaignRecord] = []
            while try statement.step() { records.append(Self.campaignRecord(statement)) }
            return records
        }
    }

    static func campaignRecord(_ s: Statement) -> CampaignRecord {
        CampaignRecord(
            cid: s.int64(0), id: s.string(1) ?? "", campaignPath: s.string(2) ?? "", templateSHA: s.string(3) ?? "",
            recipientsSHA: s.string(4) ?? "", channel: s.string(5) ?? "",
            state: CampaignState(rawValue: s.string(6) ?? "") ?? .stopped, totalRows: s.int(7),
            createdAt: s.int64(8), updatedAt: s.int64(9), leasePID: s.optionalInt(10), leaseHost: s.string(11),
            leaseHeartbeat: s.isNull(12) ? nil : s.int64(12), ledgerScope: s.string(13) ?? "real",
            limits: BudgetLimits(maxPrice: money(s, 14), campaignLimit: money(s, 15), monthlyLimit: money(s, 16)),
            stopReason: s.string(17), control: s.string(18).flatMap(CampaignControl.init),
            scheduledAt: s.isNull(19) ? nil : s.int64(19))
    }

    private static func money(_ s: Statement, _ column: Int32) -> Money? {
        s.isNull(column) ? nil : Money(nanos: s.int64(column))
    }

    /// Takes the campaign's lease in one transaction, creating the campaign if it is
    /// new. Refuses while another live process holds it, and refuses changed inputs
    /// once any row has left `pending`. Rows left `sending` by a dead process become
    /// `in_doubt`.
    /// A paused campaign is refused unless `unpause` (an explicit run or resume);
    /// a cancelled one always.
    public func open(_ inputs: CampaignInputs, owner: LeaseOwner, recipientsPath: String, templatePath: String,
                     unpause: Bool = true) throws(JournalError) -> CampaignOpening
    {
        let time = now()
        return try write {
            let existing = try db.statement(
                "SELECT \(Self.campaignColumns), lease_token FROM campaign WHERE id = ?1")
            existing.bind(1, inputs.id)
            guard try existing.step() else {
                existing.reset()
                let insert = try db.statement(
                    """
                    INSERT INTO campaign (id, campaign_path, template_sha, recipients_sha, channel, state, created_at,
                        updated_at, lease_token, lease_pid, lease_host, lease_heartbeat, ledger_scope, max_price,
                        campaign_limit, monthly_limit)
                    VALUES (?1, ?2, ?3, ?4, ?5, 'importing', ?6, ?6, ?7, ?8, ?9, ?6, ?10, ?11, ?12, ?13)
                    """)
                insert.bind(1, inputs.id).bind(2, inputs.campaignPath).bind(3, inputs.templateSHA)
                    .bind(4, inputs.recipientsSHA).bind(5, inputs.channel).bind(6, time).bind(7, owner.token)
                    .bind(8, owner.pid).bind(9, owner.host).bind(10, inputs.ledgerScope)
                    .bind(11, inputs.limits.maxPrice?.nanos).bind(12, inputs.limits.campaignLimit?.nanos)
                    .bind(13, inputs.limits.monthlyLimit?.nanos)
                try insert.run()
                return .needsImport(cid: db.lastInsertRowID)
            }
            let record = Self.campaignRecord(existing)
            let token = existing.string(20)
            existing.reset()
            if owner.considersLive(token: token, pid: record.leasePID, host: record.leaseHost,
                                   heartbeat: record.leaseHeartbeat, now: time) {
                throw JournalError(.leased(campaign: record.id, pid: record.leasePID ?? 0, host: record.leaseHost ?? "?"), path: path)
            }
            if let control = record.control, control == .cancel || !unpause {
                throw JournalError(.controlled(campaign: record.id, control: control.rawValue), path: path)
            }
            let changed: (file: String, path: String)? =
                record.templateSHA != inputs.templateSHA ? ("template", templatePath)
                : record.recipientsSHA != inputs.recipientsSHA ? ("recipient CSV", recipientsPath) : nil
            var reimport = record.state == .importing
            if let changed {
                if try hasStarted(cid: record.cid) {
                    throw JournalError(.inputsChanged(campaign: record.id, file: changed.file, path: changed.path), path: path)
                }
                reimport = true
            }
            let update = try db.statement(
                """
                UPDATE campaign SET campaign_path = ?2, template_sha = ?3, recipients_sha = ?4, channel = ?5,
                    state = CASE WHEN ?6 THEN 'importing' ELSE state END, updated_at = ?7,
                    lease_token = ?8, lease_pid = ?9, lease_host = ?10, lease_heartbeat = ?7, ledger_scope = ?11,
                    max_price = ?12, campaign_limit = ?13, monthly_limit = ?14, stop_reason = NULL, control = NULL
                WHERE cid = ?1
                """)
            update.bind(1, record.cid).bind(2, inputs.campaignPath).bind(3, inputs.templateSHA)
                .bind(4, inputs.recipientsSHA).bind(5, inputs.channel).bind(6, reimport ? 1 : 0).bind(7, time)
                .bind(8, owner.token).bind(9, owner.pid).bind(10, owner.host).bind(11, inputs.ledgerScope)
                .bind(12, inputs.limits.maxPrice?.nanos).bind(13, inputs.limits.campaignLimit?.nanos)
                .bind(14, inputs.limits.monthlyLimit?.nanos)
            try update.run()
            if reimport {
                let purge = try db.statement("DELETE FROM message WHERE cid = ?1")
                purge.bind(1, record.cid)
                try purge.run()
                return .needsImport(cid: record.cid)
            }
            let doubt = try db.statement("UPDATE message SET state = 6, updated_at = ?2 WHERE cid = ?1 AND state = 1")
            doubt.bind(1, record.cid).bind(2, time)
            try doubt.run()
            return .ready(cid: record.cid, recoveredInDoubt: db.changes)
        }
    }

    /// Asks whoever sends the campaign to pause or cancel (or records it for the next
    /// sender). Cancelling also skips every row not yet sent. Returns false for an
    /// unknown campaign.
    public func request(_ control: CampaignControl, campaign id: String) throws(JournalError) -> Bool {
        try write {
            let statement = try db.statement(
                "UPDATE campaign SET control = ?2, updated_at = ?3 WHERE id = ?1 AND state NOT IN ('completed', 'cancelled')")
            statement.bind(1, id).bind(2, control.rawValue).bind(3, now())
            try statement.run()
            if db.changes == 0 { return try campaignExists(id) }
            if control == .cancel {
                let skip = try db.statement(
                    """
                    UPDATE message SET state = 4, reason = 'cancelled', not_before = NULL, updated_at = ?2
                    WHERE cid = (SELECT cid FROM campaign WHERE id = ?1) AND state IN (0, 5)
                    """)
                skip.bind(1, id).bind(2, now())
                try skip.run()
            }
            // Nobody is sending it: the campaign takes the new state now.
            let idle = try db.statement("UPDATE campaign SET state = ?2 WHERE id = ?1 AND lease_token IS NULL")
            idle.bind(1, id).bind(2, (control == .cancel ? CampaignState.cancelled : .paused).rawValue)
            try idle.run()
            return true
        }
    }

    private func campaignExists(_ id: String) throws -> Bool {
        let statement = try db.statement("SELECT count(*) FROM campaign WHERE id = ?1")
        statement.bind(1, id)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int(0) > 0
    }

    /// The pending request for a campaign, if any (read by its sender).
    public func control(cid: Int64) throws(JournalError) -> CampaignControl? {
        try read { try controlNow(cid: cid) }
    }

    func controlNow(cid: Int64) throws -> CampaignControl? {
        let statement = try db.statement("SELECT control FROM campaign WHERE cid = ?1")
        statement.bind(1, cid)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.string(0).flatMap(CampaignControl.init)
    }

    /// Notes when a worker is to start an imported campaign (release it as `scheduled`).
    public func schedule(cid: Int64, at time: Int64) throws(JournalError) {
        try write {
            let statement = try db.statement(
                "UPDATE campaign SET scheduled_at = ?2, updated_at = ?3 WHERE cid = ?1")
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
    public func discardCampaign(id: String) throws(JournalError) {
        try write {
            for table in ["message", "ledger", "run"] {
                let statement = try db.statement("DELETE FROM \(table) WHERE cid IN (SELECT cid FROM campaign WHERE id = ?1)")
                statement.bind(1, id)
                try statement.run()
            }
            let campaign = try db.statement("DELETE FROM campaign WHERE id = ?1")
            campaign.bind(1, id)
            try campaign.run()
        }
    }

    /// Removes a campaign whose import failed: nothing of it was ever sent.
    public func discardImport(cid: Int64) throws(JournalError) {
        try write {
            let rows = try db.statement("DELETE FROM message WHERE cid = ?1")
            rows.bind(1, cid)
            try rows.run()
            let campaign = try db.statement("DELETE FROM campaign WHERE cid = ?1 AND state = 'importing'")
            campaign.bind(1, cid)
            try campaign.run()
        }
    }

    /// True once any row of the campaign has been claimed.
    func hasStarted(cid: Int64) throws -> Bool {
        let statement = try db.statement(
            "SELECT EXISTS (SELECT 1 FROM message WHERE cid = ?1 AND state NOT IN (0, 4))")
        statement.bind(1, cid)
        _ = try statement.step()
        defer { statement.reset() }
        return statement.int(0) != 0
    }

    /// Refreshes the lease's heartbeat.
    public func heartbeat(cid: Int64, owner: LeaseOwner) throws(JournalError) {
        try write { try touchLease(cid: cid, owner: owner) }
    }

    func touchLease(cid: Int64, owner: LeaseOwner) throws {
        let statement = try db.statement(
            "UPDATE campaign SET lease_heartbeat = ?3 WHERE cid = ?1 AND lease_token = ?2")
        statement.bind(1, cid).bind(2, owner.token).bind(3, now())
        try statement.run()
    }

    /// Gives the lease up and records where the campaign stands.
    public func release(cid: Int64, owner: LeaseOwner, state: CampaignState) throws(JournalError) {
        try write {
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

    /// Makes in-doubt rows due for sending again. Their reservation is released
    /// when the provider dedupes (a resend costs nothing if the first got through);
    /// otherwise it is counted as spent, since the first request may have been
    /// delivered and the resend reserves again.
    @discardableResult
    public func resendInDoubt(cid: Int64, providerDedupes: Bool) throws(JournalError) -> Int {
        try write {
            let channel = try channel(cid: cid)
            let sums = try db.statement(
                "SELECT spend_month, sum(cost) FROM message WHERE cid = ?1 AND state = 6 AND spend_month IS NOT NULL GROUP BY spend_month")
            sums.bind(1, cid)
            var byMonth: [(Int, Int64)] = []
            while try sums.step() { byMonth.append((sums.int(0), sums.int64(1))) }
            sums.reset()
            for (month, cost) in byMonth {
                try adjustLedger(cid: cid, month: month, channel: channel, reserved: -cost, spent: providerDedupes ? 0 : cost)
            }
            let statement = try db.statement(
                "UPDATE message SET state = 5, not_before = 0, spend_month = NULL, updated_at = ?2 WHERE cid = ?1 AND state = 6")
            statement.bind(1, cid).bind(2, now())
            try statement.run()
            return db.changes
        }
    }

    /// Records why a campaign stopped early (shown by `status`).
    public func setStopReason(cid: Int64, _ reason: String?) throws(JournalError) {
        try write {
            let statement = try db.statement("UPDATE campaign SET stop_reason = ?2 WHERE cid = ?1")
            statement.bind(1, cid).bind(2, reason)
            try statement.run()
        }
    }

    public func startRun(cid: Int64, mode: String, owner: LeaseOwner) throws(JournalError) -> Int64 {
        try write {
            let statement = try db.statement(
                "INSERT INTO run (cid, mode, pid, host, started_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            statement.bind(1, cid).bind(2, mode).bind(3, owner.pid).bind(4, owner.host).bind(5, now())
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
