import Foundation
import HeraldCore
import HeraldJournal

import PostgresNIO

/// The PostgreSQL journal: the journal protocol for any number of senders, on any
/// machines, sending one campaign at once.
///
/// - Each sender holds a lease row with a heartbeat (by the database's clock). Rows it
///   claims carry its lease; a sender silent for `lease_timeout` loses them to the
///   others: sent again when the provider dedupes, `in_doubt` otherwise.
/// - A claim locks the campaign row (which holds its spend) and the month's ledger row,
///   then takes pending rows with `FOR UPDATE SKIP LOCKED`: reservations never pass a
///   limit, whatever the number of senders.
/// - The campaign's rate is one token bucket in the database: each claim takes send
///   slots, so the senders' combined rate holds (`ClaimedMessage.due`).
/// - One sender imports the CSV (`COPY`) under an advisory lock; the others wait, then join.
///
/// Not `Sendable`: one thread at a time, as the engine's journal queue guarantees.
public final class PostgresJournal: CampaignJournal {
    let session: PostgresSession
    let target: PostgresTarget
    /// This process's lease per campaign, and the step it last committed.
    var leases: [Int64: (lid: Int64, seq: Int64)] = [:]
    /// Per campaign: whether a dead sender's rows are sent again (the provider dedupes).
    var resendsTakenOver: [Int64: Bool] = [:]
    /// When each campaign's expired leases were last looked for.
    var lastTakeover: [Int64: ContinuousClock.Instant] = [:]
    /// Capped campaigns this process sends: the cap and the campaign's scope.
    var caps: [Int64: (cap: FrequencyCap, scope: String)] = [:]
    /// Campaigns whose import this process holds the advisory lock for.
    var importing: Set<Int64> = []
    /// The database's clock as this process's, for the rate slots it hands out.
    var serverClock = ServerClock<ContinuousClock>(now: .now)

    public var location: String { target.description }
    public var sharesCampaigns: Bool { true }
    /// This process's clock (ms since 1970): billing months, attempt and receipt times. Tests set
    /// it, as they set the SQLite journal's; leases run on the server's clock.
    public var now: () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    public func currentTime() -> Int64 { now() }

    public init(target: PostgresTarget) throws(JournalError) {
        self.target = target
        session = try PostgresSession(target: target)
        try attempt { try PostgresSchema.prepare(session) }
    }

    /// Runs `work`; when the connection drops (a restarted server, a network cut), connects
    /// again with backoff and runs it again, for up to the lease timeout after the connection
    /// was first lost. `work` must be safe to run again: each is one transaction, or reads.
    ///
    /// The time counts from the first failure, not from the start: a sender frozen inside
    /// `work` (SIGSTOP, a suspended VM) wakes long past any deadline taken before, to find
    /// its transaction ended by the server (`idle_in_transaction_session_timeout`); that
    /// first failure is retried on a new connection like any other. It counts for the
    /// journal, not for each call: once one call gave up, the next (the heartbeat, the
    /// release on the way out) tries one new connection rather than waiting a lease timeout
    /// each (a sender whose server stayed down took four of them to exit). The error says why
    /// the connection could not be made again.
    func attempt<T>(_ work: () throws -> T) throws(JournalError) -> T {
        var pause = 0.05
        var reconnected = false
        while true {
            do {
                let result = try work()
                lostSince = nil
                return result
            } catch let error as JournalError {
                // Answered (a rule said no): the connection works.
                lostSince = nil
                throw error
            } catch {
                guard PostgresSession.isTransient(error) else {
                    lostSince = nil
                    throw JournalError.server(PostgresSession.describe(error), path: location)
                }
                let since = lostSince ?? ContinuousClock.now
                lostSince = since
                let giveUp = since + .milliseconds(Int(target.leaseTimeoutSeconds * 1000))
                if ContinuousClock.now >= giveUp, reconnected {
                    let why = reconnectError.map { ": \($0)" } ?? ""
                    let lost = error is PostgresSessionLost ? "" : " (\(PostgresSession.describe(error)))"
                    throw JournalError.server(
                        "lost the connection\(lost) and could not make it again within the lease timeout "
                            + "(\(Self.seconds(target.leaseTimeoutSeconds)) s)\(why)", path: location)
                }
                if ContinuousClock.now < giveUp {
                    Thread.sleep(forTimeInterval: pause)
                    pause = min(pause * 2, 1)
                }
                do {
                    try session.connect()
                    reconnectError = nil
                } catch {
                    if case .server(let message) = error.kind { reconnectError = message } else { reconnectError = error.description }
                }
                reconnected = true
            }
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int64(value)) : String(value)
    }

    /// Since when the connection has been lost (nil while statements succeed), for `attempt`.
    var lostSince: ContinuousClock.Instant?
    /// Why the last try to connect again failed.
    var reconnectError: String?

    /// The columns a campaign record is decoded from, under the names it reads.
    static let campaignColumns = """
        c.cid, c.id, c.mode, c.campaign_path, c.template_sha, c.recipients_sha, c.channel, c.state, c.total_rows, c.created_at,
        c.updated_at, l.pid AS lease_pid, l.host AS lease_host,
        (extract(epoch from l.heartbeat) * 1000)::bigint AS lease_heartbeat, c.ledger_scope, c.max_price, c.campaign_limit,
        c.monthly_limit, c.stop_reason, c.control, c.scheduled_at, c.sender, c.stop_kind, c.purged_at
        """
    /// The freshest live lease of each campaign, for `status`.
    var campaignFrom: String {
        """
        campaign c LEFT JOIN LATERAL (SELECT pid, host, heartbeat FROM lease WHERE lease.cid = c.cid
            AND heartbeat > clock_timestamp() - make_interval(secs => \(target.leaseTimeoutSeconds))
            ORDER BY heartbeat DESC LIMIT 1) l ON true
        """
    }

    static func record(_ row: PostgresRow) throws -> CampaignRecord {
        try CampaignRecord(row: NamedRow(row))
    }

    public func campaign(id: String, mode: RunMode) throws(JournalError) -> CampaignRecord? {
        try attempt {
            try session.query(
                """
                SELECT \(sql: Self.campaignColumns)
                FROM \(sql: campaignFrom)
                WHERE c.id = \(id) AND c.mode = \(mode.rawValue)
                """).first.map(Self.record)
        }
    }

    public func campaigns() throws(JournalError) -> [CampaignRecord] {
        try attempt {
            try session.query("SELECT \(sql: Self.campaignColumns) FROM \(sql: campaignFrom) ORDER BY c.created_at, c.cid").map(Self.record)
        }
    }

    // MARK: Counters, ledger, rows

    public func counts(cid: Int64) throws(JournalError) -> CampaignCounts {
        try attempt {
            var counts = CampaignCounts()
            for row in try session.query("SELECT state, reason, n FROM tally WHERE cid = \(cid) AND n != 0") {
                let c = row.cells
                guard let state = MessageState(rawValue: try c.int(0)) else { continue }
                counts.add(state: state, reason: try c.string(1) ?? "", count: try c.int(2))
            }
            return counts
        }
    }

    public func finalReceipts(cid: Int64, rows: [Int]) throws(JournalError) -> [Int: Int64] {
        guard !rows.isEmpty else { return [:] }
        return try attempt {
            var found: [Int: Int64] = [:]
            for row in try session.query(
                """
                SELECT row::int8, event_at FROM delivery WHERE cid = \(cid) AND row = ANY(\(rows.map { Int32(clamping: $0) }))
                    AND state <> \(DeliveryState.pending.rawValue) AND event_at IS NOT NULL
                """)
            {
                found[Int(clamping: try row.cells.int64(0))] = try row.cells.int64(1)
            }
            return found
        }
    }

    public func senderTotals(cid: Int64) throws(JournalError) -> [SenderTotals] {
        try attempt {
            let groups = try session.query(
                """
                SELECT route::int8, sender::int8, state::int8, count(*) FROM message
                WHERE cid = \(cid) AND sender IS NOT NULL GROUP BY route, sender, state
                """).map { row in
                    let c = row.cells
                    return (route: try c.int64(0), sender: try c.int64(1), state: Int(clamping: try c.int64(2)),
                            count: Int(clamping: try c.int64(3)))
                }
            return SenderTotals.collect(groups)
        }
    }

    public func routeTotals(cid: Int64) throws(JournalError) -> [RouteTotals] {
        let groups = try totals(cid: cid, by: "m.route")
        return RouteTotals.collect(groups, fellBack: try attempt {
            try session.query(
                """
                SELECT from_route::int8, greatest(least(coalesce(sum(spent), 0), 9000000000000000000), -9000000000000000000)::int8
                FROM route_switch WHERE cid = \(cid) AND spent IS NOT NULL GROUP BY from_route
                """).map { row in (route: try row.cells.int64(0), cost: try row.cells.int64(1)) }
        })
    }

    public func languageTotals(cid: Int64) throws(JournalError) -> [LanguageTotals] {
        LanguageTotals.collect(try totals(cid: cid, by: "m.language"))
    }

    /// Rows, cost and receipts of a campaign grouped by `key` (a column of `message AS m`) and state.
    private func totals(cid: Int64, by key: String) throws(JournalError) -> [RowTotalsGroup] {
        try attempt {
            // `key` is one of this file's column names; the rest is numbers.
            try session.query(unsafeSQL:
                """
                SELECT \(key)::text, m.state::int8, count(*),
                    greatest(least(coalesce(sum(m.cost), 0), 9000000000000000000), -9000000000000000000)::int8,
                    count(*) FILTER (WHERE d.state IN ('\(DeliveryState.delivered.rawValue)', '\(DeliveryState.fallback.rawValue)')),
                    count(*) FILTER (WHERE d.state IN ('\(DeliveryState.undelivered.rawValue)', '\(DeliveryState.expired.rawValue)',
                                                     '\(DeliveryState.unknown.rawValue)'))
                FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
                WHERE m.cid = \(cid) GROUP BY \(key), m.state
                """).map { row in
                    let c = row.cells
                    return (key: try c.string(0), state: Int(clamping: try c.int64(1)), count: Int(clamping: try c.int64(2)),
                            cost: try c.int64(3), delivered: Int(clamping: try c.int64(4)), undelivered: Int(clamping: try c.int64(5)))
                }
        }
    }

    public func routeSwitches(cid: Int64) throws(JournalError) -> [RouteSwitchSummary] {
        try attempt {
            try session.query(
                """
                SELECT from_route::int8, to_route::int8, reason, count(*), min(at), max(at) FROM route_switch WHERE cid = \(cid)
                GROUP BY from_route, to_route, reason ORDER BY from_route, to_route, reason
                """).map { row in
                    let c = row.cells
                    return RouteSwitchSummary(from: RouteIndex.checked(try c.int64(0)), to: RouteIndex.checked(try c.int64(1)),
                                              reason: try c.string(2) ?? "", rows: Int(clamping: try c.int64(3)),
                                              first: try c.int64(4), last: try c.int64(5))
                }
        }
    }

    public func ledger(cid: Int64) throws(JournalError) -> [LedgerEntry] {
        try attempt {
            try session.query("SELECT month, channel, reserved, spent FROM ledger WHERE cid = \(cid) ORDER BY month, channel").map { row in
                let c = row.cells
                return LedgerEntry(month: try c.int(0), channel: try c.string(1) ?? "", reserved: Money(nanos: try c.int64(2)),
                                   spent: Money(nanos: try c.int64(3)))
            }
        }
    }

    public func monthSpend(month: Int, channel: HeraldCore.Channel, scope: LedgerScope) throws(JournalError) -> Money {
        try attempt {
            let rows = try session.query(
                """
                SELECT reserved + spent
                FROM month_ledger
                WHERE scope = \(scope.rawValue) AND channel = \(channel.rawValue) AND month = \(month)
                """)
            return Money(nanos: try rows.first?.cells.int64(0) ?? 0)
        }
    }

    public func rows(cid: Int64, in state: MessageState, limit: Int) throws(JournalError) -> [RowNote] {
        try attempt {
            try session.query(
                """
                SELECT row, reason, detail
                FROM message
                WHERE cid = \(cid) AND state = \(state)
                ORDER BY row LIMIT \(limit)
                """).map { row in
                let c = row.cells
                return RowNote(row: try c.int(0), state: state, reason: try c.string(1).flatMap(Reason.init), detail: try c.string(2))
            }
        }
    }

    public func nextRetry(cid: Int64) throws(JournalError) -> Int64? {
        try attempt {
            try session.query(
                """
                SELECT min(not_before)
                FROM message
                WHERE cid = \(cid) AND state = \(MessageState.retry)
                """).first?.cells.optionalInt64(0)
        }
    }

    public func remainingByZone(cid: Int64) throws(JournalError) -> [RemainingRows] {
        try attempt {
            let waiting = try session.query(
                """
                SELECT tz, min(not_before)::int8, count(*)
                FROM message
                WHERE cid = \(cid) AND state = \(MessageState.retry) AND not_before IS NOT NULL
                GROUP BY tz, not_before / 60000
                """).map { row in
                    RemainingRows(zones: try row.cells.string(0), due: try row.cells.int64(1), rows: Int(clamping: try row.cells.int64(2)))
                }
            let pending = try session.query(
                """
                SELECT tz, count(*), min(row)::int8 FROM message WHERE cid = \(cid) AND state = \(MessageState.pending) GROUP BY tz
                """).map { row in
                    (group: RemainingRows(zones: try row.cells.string(0), due: nil, rows: Int(clamping: try row.cells.int64(1))),
                     first: Int(clamping: try row.cells.int64(2)))
                }
            return RemainingRows.ordered(waiting: waiting, pending: pending)
        }
    }

    // MARK: Campaign state

    public func control(cid: Int64) throws(JournalError) -> CampaignControl? {
        try attempt {
            try session.query("SELECT control FROM campaign WHERE cid = \(cid)")
                .first?.cells.string(0).flatMap(CampaignControl.init)
        }
    }

    public func setState(cid: Int64, _ state: CampaignState) throws(JournalError) {
        try update("UPDATE campaign SET state = \(state.rawValue), updated_at = \(currentTime()) WHERE cid = \(cid)")
    }

    public func setStop(cid: Int64, kind: StopKind?, description: String?) throws(JournalError) {
        try update("UPDATE campaign SET stop_reason = \(description), stop_kind = \(kind?.rawValue) WHERE cid = \(cid)")
    }

    public func schedule(cid: Int64, at time: Int64) throws(JournalError) {
        try update("""
            UPDATE campaign SET scheduled_at = \(time), updated_at = \(currentTime()), sender = \(literal: Sender.worker)
            WHERE cid = \(cid)
            """)
    }

    public func startRun(cid: Int64, mode: RunMode, owner: LeaseOwner) throws(JournalError) -> Int64 {
        try attempt {
            try session.query(
                """
                INSERT INTO run (cid, mode, pid, host, started_at)
                VALUES (\(cid), \(mode.rawValue), \(owner.pid), \(owner.host), \(currentTime()))
                RETURNING rid
                """).first!.cells.int64(0)
        }
    }

    public func endRun(rid: Int64, outcome: String, sent: Int) throws(JournalError) {
        try update("UPDATE run SET ended_at = \(currentTime()), outcome = \(outcome), sent = \(sent) WHERE rid = \(rid)")
    }

    func update(_ statement: PostgresQuery) throws(JournalError) {
        try attempt { _ = try session.query(statement) }
    }

    /// Asks every sender of the campaign to pause or cancel: each sees it at its next claim
    /// or control check (within half a second). Cancelling skips every row not yet sent.
    @discardableResult
    public func request(_ control: CampaignControl, campaign id: String, mode: RunMode) throws(JournalError) -> Bool {
        try attempt {
            try session.transaction {
                guard let found = try session.query(
                    """
                    SELECT cid, state
                    FROM campaign
                    WHERE id = \(id) AND mode = \(mode.rawValue)
                    FOR UPDATE
                    """).first else { return false }
                let cid = try found.cells.int64(0)
                let changed = try session.query(
                    """
                    UPDATE campaign SET control = \(control.rawValue), updated_at = \(currentTime()) WHERE cid = \(cid)
                        AND state NOT IN (\(literal: CampaignState.completed), \(literal: CampaignState.cancelled))
                    RETURNING cid
                    """)
                if changed.isEmpty { return true }
                // An import in progress writes its counters when it ends: its rows are left to the
                // sender, which sees the request at its first step and cancels them then, counted.
                // Skipping them now moved counters the import had not written yet (journey seed
                // 61106: pending -290, and the import started over).
                guard try found.cells.string(1) != CampaignState.importing.rawValue else { return true }
                if control == .cancel { try skipUnsent(cid: cid) }
                // Nobody is sending it: the campaign takes the new state now.
                try session.query(
                    """
                    UPDATE campaign SET state = \((control == .cancel ? CampaignState.cancelled : .paused).rawValue)
                        WHERE cid = \(cid) AND NOT EXISTS (SELECT 1 FROM lease WHERE lease.cid = \(cid)
                        AND heartbeat > clock_timestamp() - make_interval(secs => \(target.leaseTimeoutSeconds)))
                    """)
                return true
            }
        }
    }

    public func resumeForWorker(id: String, mode: RunMode) throws(JournalError) -> Bool {
        try attempt {
            !(try session.query(
                """
                UPDATE campaign SET control = NULL, state = \(literal: CampaignState.scheduled),
                    scheduled_at = \(currentTime()), updated_at = \(currentTime()),
                    sender = \(literal: Sender.worker), stop_reason = NULL, stop_kind = NULL
                WHERE id = \(id) AND mode = \(mode.rawValue) AND (state = \(literal: CampaignState.paused)
                    OR control = \(literal: CampaignControl.pause))
                    AND NOT EXISTS (SELECT 1 FROM lease WHERE lease.cid = campaign.cid AND \(sql: liveLease))
                RETURNING cid
                """)).isEmpty
        }
    }

    /// Cancelling: every row still to send (pending or waiting) is skipped, counters moved.
    func skipUnsent(cid: Int64) throws {
        let rule = BulkRule.Cancellation.self
        var changes = TallyChanges()
        // Rows whose earlier attempt may have been delivered: in doubt, not cancelled.
        for row in try session.query(
            """
            WITH old AS (SELECT row, state, coalesce(reason, '') AS reason, doubt FROM message
                         WHERE cid = \(cid) AND state = ANY(\(rule.states.map { Int16($0.rawValue) })) AND doubt IS NOT NULL
                         FOR UPDATE),
                 moved AS (UPDATE message m SET state = \(Int16(rule.doubtedState.rawValue)), reason = old.doubt,
                     not_before = NULL, updated_at = \(currentTime()), detail = \(rule.doubtedDetailPrefix) || old.doubt || ')'
                           FROM old WHERE m.cid = \(cid) AND m.row = old.row RETURNING old.state, old.reason, old.doubt)
            SELECT state, reason, doubt, count(*) FROM moved GROUP BY 1, 2, 3
            """)
        {
            let c = row.cells
            guard let state = MessageState(rawValue: try c.int(0)), let doubt = try c.string(2) else { continue }
            changes.merge(rule.moveDoubted(from: TallyKey(state, code: try c.string(1)), doubt: doubt, try c.int(3)))
        }
        let moved = try session.query(
            """
            WITH old AS (SELECT row, state, coalesce(reason, '') AS reason FROM message
                         WHERE cid = \(cid) AND state = ANY(\(rule.states.map { Int16($0.rawValue) })) FOR UPDATE),
                 moved AS (UPDATE message m SET state = \(Int16(rule.state.rawValue)), reason = \(rule.reason.rawValue),
                     not_before = NULL, updated_at = \(currentTime())
                           FROM old WHERE m.cid = \(cid) AND m.row = old.row RETURNING old.state, old.reason, m.region, m.cost)
            SELECT state, reason, region, count(*), coalesce(sum(cost), 0)::int8 FROM moved GROUP BY 1, 2, 3
            """)
        var report = ReportCounters()
        let time = currentTime()
        for row in moved {
            let c = row.cells
            guard let state = MessageState(rawValue: try c.int(0)) else { continue }
            changes.merge(rule.move(from: TallyKey(state, code: try c.string(1)), try c.int(3)))
            report.move(region: try c.string(2), cost: try c.int64(4), from: state, at: time, to: rule.state, at: time)
        }
        var upserts = CounterUpserts()
        changes.add(cid: cid, to: &upserts)
        report.add(cid: cid, to: &upserts)
        try upserts.run(session)
        // In-doubt rows keep no reservation: counted spent (`BulkRule.Cancellation.spendReservation`).
        var ledger = LedgerDeltas()
        for row in try session.query(
            """
            WITH old AS (SELECT row, spend_month, cost FROM message
                         WHERE cid = \(cid) AND state = \(MessageState.inDoubt) AND spend_month IS NOT NULL FOR UPDATE)
            UPDATE message m SET spend_month = NULL, earlier_spent = \(Int16(rule.earlierSpentMark))
            FROM old WHERE m.cid = \(cid) AND m.row = old.row
            RETURNING old.spend_month, old.cost
            """)
        {
            ledger.add(rule.spendReservation(cost: try row.cells.int64(1), month: try row.cells[0].decode(Int?.self)))
        }
        for delta in ledger.deltas { try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent) }
    }

    public func discardCampaign(id: String, mode: RunMode) throws(JournalError) {
        try attempt {
            try session.transaction {
                let cids = try session.query(
                    """
                    DELETE FROM campaign
                    WHERE id = \(id) AND mode = \(mode.rawValue)
                    RETURNING cid, ledger_scope, channel
                    """)
                for row in cids {
                    let cid = try row.cells.int64(0)
                    // Its reservations and spend leave the month's ledger with it.
                    try session.query(
                        """
                        UPDATE month_ledger m SET reserved = m.reserved - l.reserved, spent = m.spent - l.spent
                        FROM ledger l WHERE l.cid = \(cid) AND m.scope = \(try row.cells.string(1) ?? "")
                            AND m.channel = l.channel AND m.month = l.month
                        """)
                    // With this store's own: the senders' leases and the shared rate.
                    for table in ExportedTable.discardedTables + ["lease", "rate_bucket"] {
                        try session.query("DELETE FROM \(sql: table) WHERE cid = \(cid)")
                    }
                }
            }
        }
    }

    public func discardImport(cid: Int64) throws(JournalError) {
        try attempt {
            try session.transaction {
                for table in ExportedTable.importedTables + ["lease"] {
                    try session.query("DELETE FROM \(sql: table) WHERE cid = \(cid)")
                }
                try session.query("DELETE FROM campaign WHERE cid = \(cid) AND state = 'importing'")
            }
        }
        endImport(cid: cid)
    }

    /// Runs one piece of this process's import. The import lock lives as long as the
    /// connection: a lost connection (a restart, or a waiter that ended this sender's
    /// session because it sat idle past a lease timeout, frozen) is never tried again on a
    /// new one, where another sender may be importing the same campaign. The import is cut
    /// short; the runner opens the campaign again.
    func importing<T>(_ cid: Int64, _ work: () throws -> T) throws(JournalError) -> T {
        do {
            return try work()
        } catch {
            guard PostgresSession.isTransient(error) else { throw JournalError.server(PostgresSession.describe(error), path: location) }
            importing.remove(cid)
            try? session.connect()
            throw JournalError.importCutShort(cid: cid, path: location)
        }
    }

    /// Lets the senders waiting on this process's import in.
    func endImport(cid: Int64) {
        guard importing.remove(cid) != nil else { return }
        _ = try? session.query(importLock("pg_advisory_unlock", cid))
    }
}

extension TallyChanges {
    /// Adds these changes to the campaign's counters (in one order, whoever writes them).
    func write(cid: Int64, _ session: PostgresSession) throws {
        var upserts = CounterUpserts()
        add(cid: cid, to: &upserts)
        try upserts.run(session)
    }

    func add(cid: Int64, to upserts: inout CounterUpserts) {
        let changed = deltas.filter { $0.value != 0 }.sorted { ($0.key.state.rawValue, $0.key.reason) < ($1.key.state.rawValue, $1.key.reason) }
        guard !changed.isEmpty else { return }
        upserts.add(
            """
            INSERT INTO tally (cid, state, reason, n) SELECT $1, s, r, n FROM unnest($2::int2[], $3::text[], $4::int8[]) AS v(s,
                r, n)
            ON CONFLICT (cid, state, reason) DO UPDATE SET n = tally.n + excluded.n
            """) {
                $0.append(cid); $0.append(changed.map { Int16($0.key.state.rawValue) }); $0.append(changed.map(\.key.reason))
                $0.append(changed.map { Int64($0.value) })
            }
    }
}
