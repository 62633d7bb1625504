import Foundation
import HeraldCore
import HeraldJournal

import PostgresNIO

/// Delivery receipts on PostgreSQL: what each event does is `ReceiptChanges`' rule, as on
/// SQLite; this file fetches the facts (the messages the events name, locked) and writes
/// what the rule returns, a batch per transaction. Any number of receivers may record
/// into one journal at once: each locks its messages in (campaign, row) order, then the
/// campaign rows, as a sender's step does (messages, then its campaign), so they queue
/// rather than deadlock; a deadlock PostgreSQL still finds is retried as a whole.
extension PostgresJournal: ReceiptJournal {
    /// Sentinel for "no value" in the arrays bound to `unnest` (Int64 columns).
    private static let none = Int64.min

    public func recordReceipts(_ events: [DeliveryEvent], receivedAt: Int64?, keywords: ReplyKeywords,
                               resolve: ((String) -> (cid: Int64, row: Int)?)?) throws(JournalError) -> ReceiptBatchResult {
        let time = receivedAt ?? currentTime()
        guard !events.isEmpty else { return ReceiptBatchResult() }
        return try attempt {
            try session.transaction {
                let replayed = try takeEnvelopes(of: events, time: time)
                let fresh = events.filter { !($0.envelope.map(replayed.contains) ?? false) }
                var result = fresh.isEmpty ? ReceiptBatchResult()
                    : try recordOnce(fresh, time: time, keywords: keywords, resolve: resolve)
                result.replayed = events.count - fresh.count
                return result
            }
        }
    }

    /// Records the signed messages `events` came in; returns the ids taken before (by any
    /// receiver: the insert waits on a concurrent one's). Ids older than
    /// `ReceiptEnvelope.keptFor` are forgotten.
    private func takeEnvelopes(of events: [DeliveryEvent], time: Int64) throws -> Set<String> {
        let ids = Array(Set(events.compactMap(\.envelope))).sorted()
        guard !ids.isEmpty else { return [] }
        try session.query("DELETE FROM receipt_envelope WHERE taken_at < \(time - ReceiptEnvelope.keptFor)")
        let fresh = Set(try session.query(
            """
            INSERT INTO receipt_envelope (id, taken_at) SELECT unnest(\(ids)::text[]), \(time)
            ON CONFLICT DO NOTHING RETURNING id
            """).map { try $0.cells.string(0) ?? "" })
        return Set(ids).subtracting(fresh)
    }

    private struct Key: Hashable, Comparable {
        let cid: Int64
        let row: Int
        static func < (a: Key, b: Key) -> Bool { (a.cid, a.row) < (b.cid, b.row) }
    }

    private func recordOnce(_ events: [DeliveryEvent], time: Int64, keywords: ReplyKeywords,
                            resolve: ((String) -> (cid: Int64, row: Int)?)?) throws -> ReceiptBatchResult {
        // What the events name: rows by campaign id, rows by journal key, provider references.
        // The reference beside a campaign id and row is looked for only when that row is not
        // found (it names the same message, or is the fallback for a row out of this journal).
        var named = Named()
        for event in events {
            switch event.match {
            case .row(let id, let row, _):
                // A row number out of range (a made-up callback) names no message.
                if let row = Int32(exactly: row) { named.rows.insert(RowByID(id: id, row: row)) }
            case .reference(let reference): named.references.insert(reference)
            case .journalRow(let cid, let row): named.keys.insert(Key(cid: cid, row: row))
            case .none: break
            }
        }
        var found = try lockNamed(named)
        var targets = found.targets
        for event in events {
            guard case .row(let id, let row, let reference?) = event.match else { continue }
            if found.cids[id].map({ targets[Key(cid: $0, row: row)] == nil }) ?? true { named.references.insert(reference) }
        }
        // A reference no message held when that statement began: derived from campaign and row
        // (`resolve`: the engine looks at the rows being sent, in doubt or waiting), then,
        // for those still unknown, looked up in the index again. In that order: a sender
        // stores the reference as it ends the row's `sending`, in one commit, so a message
        // is either still being sent at the first look or has its reference at the second
        // (in the other order, one settled between the two looks was missed: seen as
        // unmatched callbacks under three senders).
        var derived: [String: Key] = [:]
        for reference in named.references where found.byReference[reference] == nil {
            if let resolved = resolve?(reference) { derived[reference] = Key(cid: resolved.cid, row: resolved.row) }
        }
        let unknown = named.references.filter { found.byReference[$0] == nil && derived[$0] == nil }
        if !unknown.isEmpty {
            for row in try session.query(
                """
                SELECT r.ref, x.cid, x.row FROM unnest(\(Array(unknown))::text[]) AS r(ref)
                CROSS JOIN LATERAL (SELECT cid, row FROM message WHERE provider_ref = r.ref OFFSET 0) AS x
                """)
            {
                found.byReference[try row.cells.string(0) ?? ""] = Key(cid: try row.cells.int64(1), row: try row.cells.int(2))
            }
        }
        // Every message an event may name, the first that exists being the one it is about.
        func candidates(_ match: DeliveryEvent.Match) -> [Key] {
            switch match {
            case .none: return []
            case .journalRow(let cid, let row): return [Key(cid: cid, row: row)]
            case .row(let id, let row, let reference):
                return (found.cids[id].map { [Key(cid: $0, row: row)] } ?? []) + (reference.map { candidates(.reference($0)) } ?? [])
            case .reference(let reference):
                return (found.byReference[reference] ?? derived[reference]).map { [$0] } ?? []
            }
        }
        let wanted = events.map { candidates($0.match) }
        // Rows found by those references or derived from them: locked after the others, so
        // in another order than a second receiver's may be (a deadlock, if PostgreSQL finds
        // one, is tried again whole).
        let late = Set(derived.values).union(unknown.compactMap { found.byReference[$0] }).subtracting(targets.keys)
        if !late.isEmpty { targets.merge(try lockNamed(Named(keys: Set(late))).targets) { first, _ in first } }
        try readDeliveries(into: &targets)
        try readFallbacks(of: zip(events, wanted).filter { RCSFallbackRule.isRCSEvent($0.0) }.flatMap(\.1), into: &targets)
        var changes = ReceiptChanges()
        var result = ReceiptBatchResult()
        var audits: [(event: DeliveryEvent, key: Key?)] = []
        var writes: [Key: DeliveryWrite] = [:]
        var settled: [Key: Int] = [:]
        var invalid: [Key: String] = [:]
        var replies: [ReplyChange] = []
        for (event, candidates) in zip(events, wanted) {
            let key = candidates.first { targets[$0]?.target.mayHaveBeenSent == true }
            audits.append((event, key))
            if let reply = event.reply {
                result.replies += 1
                changes.reply(from: event.source)
                if let change = ReplyChange(reply, at: event.at ?? time, keywords: keywords) { replies.append(change) }
                continue
            }
            guard let key, var target = targets[key]?.target else {
                result.unmatched += 1
                changes.unmatchedEvent(from: event.source)
                continue
            }
            result.matched += 1
            if RCSFallbackRule.ignores(event, for: target) { continue }
            let (write, provesInvalid) = changes.deliver(event, to: &target, time: time)
            if let write { writes[key] = writes[key].map { $0.then(write) } ?? write }
            if provesInvalid, targets[key]?.suppressesInvalid == true { invalid[key] = "invalid number (receipt \(event.type))" }
            // The row is locked: as read, it is as it is.
            if let month = ReceiptChanges.settlementMonth(of: target, time: time) {
                changes.settled(&target, month: month)
                settled[key] = month
                result.settled += 1
            }
            targets[key]?.target = target
        }
        changes.finish()
        try markSent(settled)
        try suppressInvalid(invalid, time: time)
        for change in replies { try answer(change) }
        var upserts = CounterUpserts()
        audit(audits, deliveries: writes.keys.sorted().compactMap { writes[$0] }, time: time, into: &upserts)
        try writeCounters(changes, with: upserts)
        return result
    }

    private struct Locked {
        var target: ReceiptTarget
        var suppressesInvalid: Bool
    }

    private struct RowByID: Hashable {
        let id: String
        let row: Int32
    }

    private struct Found {
        var targets: [Key: Locked] = [:]
        var cids: [String: Int64] = [:]
        var byReference: [String: Key] = [:]
    }

    private struct Named {
        var rows: Set<RowByID> = []
        var keys: Set<Key> = []
        var references: Set<String> = []
    }

    /// The messages the events name, locked in key order (campaign, then row), found in
    /// one statement: by campaign id and row, by journal key, by provider reference. Each
    /// key and reference is looked up on its own (lateral subqueries the planner cannot
    /// flatten): given a batch of keys, the planner would otherwise read a campaign's
    /// whole range, or the whole table, whenever its statistics lag behind the rows
    /// (measured: most of a receiver's time).
    private func lockNamed(_ named: Named) throws -> Found {
        var targets: [Key: Locked] = [:]
        var cids: [String: Int64] = [:]
        var byReference: [String: Key] = [:]
        guard !named.rows.isEmpty || !named.keys.isEmpty || !named.references.isEmpty else { return Found() }
        let rows = Array(named.rows)
        // A row number out of range names no message (and is never bound: it would trap).
        let keys = named.keys.compactMap { key in Int32(exactly: key.row).map { (cid: key.cid, row: $0) } }
        for row in try session.query(
            """
            SELECT m.cid, m.row, m.state, m.reason, m.cost, m.spend_month, m.updated_at, m.doubt, m.earlier_spent, m.region,
                m.provider_ref, c.id, c.suppress_undeliverable
            FROM (SELECT c.cid, k.row FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.row))::int4[]) AS k(id, row)
                      JOIN campaign AS c ON c.id = k.id AND c.mode = \(literal: RunMode.real)
                  UNION SELECT * FROM unnest(\(keys.map(\.cid))::int8[], \(keys.map(\.row))::int4[])
                  UNION SELECT x.cid, x.row FROM unnest(\(Array(named.references))::text[]) AS r(ref)
                      CROSS JOIN LATERAL (SELECT cid, row FROM message WHERE provider_ref = r.ref OFFSET 0) AS x
                  ORDER BY 1, 2) AS k(cid, row)
            CROSS JOIN LATERAL (SELECT cid, row, state, reason, cost, spend_month, updated_at, doubt, earlier_spent, region,
                                       provider_ref FROM message WHERE cid = k.cid AND row = k.row FOR UPDATE) AS m
            CROSS JOIN LATERAL (SELECT id, suppress_undeliverable FROM campaign WHERE cid = m.cid) AS c
            """)
        {
            guard let target = try ReceiptTarget(row: NamedRow(row)) else { continue }
            let key = Key(cid: target.cid, row: target.row)
            let c = row.cells
            targets[key] = Locked(target: target, suppressesInvalid: try c["suppress_undeliverable"].decode(Bool.self))
            if let reference = try c["provider_ref"].decode(String?.self) { byReference[reference] = key }
            if let id = try c["id"].decode(String?.self) { cids[id] = key.cid }
        }
        return Found(targets: targets, cids: cids, byReference: byReference)
    }

    /// What receipts said so far of the locked messages. Read after the locks are held,
    /// in a statement of its own: a statement sees what was committed when it began, and
    /// another receiver's transaction on these messages may have committed while this one
    /// waited for their locks.
    private func readDeliveries(into targets: inout [Key: Locked]) throws {
        guard !targets.isEmpty else { return }
        let keys = Array(targets.keys)
        for row in try session.query(
            """
            SELECT k.cid, k.row, d.state AS delivery_state, d.read_at, d.sent_at, d.code, d.price, d.event_at
            FROM unnest(\(keys.map(\.cid))::int8[], \(keys.map { Int32($0.row) })::int4[]) AS k(cid, row)
            CROSS JOIN LATERAL (SELECT state, read_at, sent_at, code, price, event_at FROM delivery
                                WHERE cid = k.cid AND row = k.row OFFSET 0) AS d
            """)
        {
            let c = row.cells
            let key = Key(cid: try c.int64(0), row: try c.int(1))
            targets[key]?.target.delivery = try DeliveryFacts(row: NamedRow(row))
        }
    }

    /// Which of the locked messages `keys` (named by events about RCS attempts) fell back to
    /// SMS since (`RCSFallbackRule`): those events change nothing for them.
    private func readFallbacks(of keys: [Key], into targets: inout [Key: Locked]) throws {
        let keys = Array(Set(keys.filter { targets[$0] != nil }))
        guard !keys.isEmpty else { return }
        for row in try session.query(
            """
            SELECT DISTINCT s.cid, s.row FROM unnest(\(keys.map(\.cid))::int8[], \(keys.map { Int32($0.row) })::int4[]) AS k(cid, row)
            JOIN route_switch AS s ON s.cid = k.cid AND s.row = k.row WHERE s.reason LIKE '\(sql: RCSFallbackRule.switchPrefix):%'
            """)
        {
            targets[Key(cid: try row.cells.int64(0), row: try row.cells.int(1))]?.target.fellBack = true
        }
    }

    /// The audit copy of every event, matched or not, and the delivery rows the events
    /// leave (written with the counters, in one statement).
    private func audit(_ audits: [(event: DeliveryEvent, key: Key?)], deliveries writes: [DeliveryWrite], time: Int64,
                       into upserts: inout CounterUpserts) {
        upserts.add(
            """
            INSERT INTO receipt (received_at, provider, type, ref, cid, row, raw)
            SELECT $1, p, t, nullif(r, ''), nullif(c, \(Self.none)), nullif(w, -1), x
            FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int4[], $7::text[]) AS v(p, t, r, c, w, x)
            """) {
                $0.append(time)
                $0.append(audits.map { $0.event.source.rawValue })
                $0.append(audits.map(\.event.type))
                $0.append(audits.map { $0.event.reference ?? "" })
                $0.append(audits.map { $0.key?.cid ?? Self.none })
                $0.append(audits.map { Int32(clamping: $0.key?.row ?? -1) })
                $0.append(audits.map(\.event.raw))
            }
        guard !writes.isEmpty else { return }
        upserts.add(
            """
            INSERT INTO delivery AS d (cid, row, state, code, detail, sent_at, event_at, read_at, price)
            SELECT c, w, s, nullif(code, ''), nullif(detail, ''), sent, nullif(ev, \(Self.none)), nullif(rd, \(Self.none)),
                nullif(pr, \(Self.none))
            FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::int8[], $8::int8[],
                        $9::int8[]) AS v(c, w, s, code, detail, sent, ev, rd, pr)
            ON CONFLICT (cid, row) DO UPDATE SET state = excluded.state, code = coalesce(excluded.code, d.code),
                detail = coalesce(excluded.detail, d.detail), sent_at = coalesce(d.sent_at, excluded.sent_at),
                event_at = coalesce(excluded.event_at, d.event_at), read_at = coalesce(d.read_at, excluded.read_at),
                price = coalesce(excluded.price, d.price)
            """) {
                $0.append(writes.map(\.cid)); $0.append(writes.map { Int32(clamping: $0.row) })
                $0.append(writes.map(\.state.rawValue)); $0.append(writes.map { $0.code ?? "" })
                $0.append(writes.map { $0.detail ?? "" }); $0.append(writes.map(\.sentAt))
                $0.append(writes.map { $0.eventAt ?? Self.none }); $0.append(writes.map { $0.readAt ?? Self.none })
                $0.append(writes.map { $0.price ?? Self.none })
            }
    }

    /// Rows the events proved accepted become `sent` (no longer in anyone's custody).
    private func markSent(_ settled: [Key: Int]) throws {
        guard !settled.isEmpty else { return }
        let keys = settled.keys.sorted()
        try session.query(
            """
            UPDATE message m SET state = \(MessageState.sent), reason = NULL, not_before = NULL, owner = NULL,
                detail = '\(sql: ReceiptChanges.settledDetail)', spend_month = coalesce(m.spend_month, v.month)
            FROM unnest(\(keys.map(\.cid))::int8[], \(keys.map { Int32($0.row) })::int4[],
                \(keys.map { Int32(settled[$0] ?? 0) })::int4[]) AS v(cid, row, month)
            WHERE m.cid = v.cid AND m.row = v.row AND m.state IN (\(MessageState.inDoubt), \(MessageState.retry))
            """)
    }

    private func suppressInvalid(_ rows: [Key: String], time: Int64) throws {
        for key in rows.keys.sorted() {
            try session.query(
                """
                INSERT INTO suppression (dest, scope, reason, source, added_at)
                SELECT dest, '', \(rows[key]), \(literal: SuppressionSource.undeliverable), \(time) FROM message
                WHERE cid = \(key.cid) AND row = \(Int32(key.row)) AND dest IS NOT NULL
                ON CONFLICT DO NOTHING
                """)
        }
    }

    private func answer(_ change: ReplyChange) throws {
        switch change {
        case .suppress(let destination, let reason, let at):
            try session.query(
                """
                INSERT INTO suppression (dest, scope, reason, source, added_at)
                VALUES (\(destination), '', \(reason), \(literal: SuppressionSource.reply), \(at)) ON CONFLICT DO NOTHING
                """)
        case .release(let destination, let sources, let listedUpTo):
            try session.query(
                """
                DELETE FROM suppression WHERE dest = \(destination) AND added_at <= \(listedUpTo)
                    AND source = ANY(\(sources.map(\.rawValue)))
                """)
        }
    }

    /// The counters the batch moved, with `writes`, in one statement just before the
    /// commit (every writer of the campaign shares these rows, and holds them until it commits). A
    /// batch that settles rows moves their campaigns' ledgers first, under the campaign
    /// rows, locked in cid order, as a sender's step moves its ledger.
    func writeCounters(_ changes: ReceiptChanges, with writes: CounterUpserts = CounterUpserts()) throws {
        let settling = Set(changes.tally.keys).union(changes.ledger.keys).sorted()
        if !settling.isEmpty {
            try session.query("SELECT 1 FROM campaign WHERE cid = ANY(\(settling)) ORDER BY cid FOR UPDATE")
        }
        for cid in settling {
            for delta in changes.ledger[cid]?.deltas ?? [] {
                try adjustLedger(cid: cid, month: delta.month, reserved: delta.reserved, spent: delta.spent)
            }
        }
        var upserts = writes
        for cid in Set(changes.tally.keys).union(changes.report.keys).sorted() {
            changes.tally[cid]?.add(cid: cid, to: &upserts)
            changes.report[cid]?.add(cid: cid, to: &upserts)
        }
        changes.delivery.add(to: &upserts)
        try upserts.run(session)
    }

    func writeDeliveryCounters(_ changes: DeliveryTallyChanges) throws {
        var upserts = CounterUpserts()
        changes.add(to: &upserts)
        try upserts.run(session)
    }

    /// Inside a transaction that holds the campaign row: in-doubt rows that an event
    /// already answered (it arrived while the row was `sending`, under a sender that then
    /// died or lost its lease) become `sent`.
    func settleReceipted(cid: Int64, in state: MessageState = .inDoubt, time: Int64) throws -> Int {
        var changes = ReceiptChanges()
        var settled: [Key: Int] = [:]
        for row in try session.query(
            """
            SELECT m.cid, m.row, m.state, m.reason, m.cost, m.spend_month, m.updated_at, m.doubt, m.earlier_spent, m.region
            FROM message AS m JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
            WHERE m.cid = \(cid) AND m.state = \(state) ORDER BY m.row FOR UPDATE OF m
            """)
        {
            guard var target = try ReceiptTarget(row: NamedRow(row)) else { continue }
            guard let month = ReceiptChanges.settlementMonth(of: target, time: time) else { continue }
            changes.settled(&target, month: month)
            settled[Key(cid: cid, row: target.row)] = month
        }
        try markSent(settled)
        try writeCounters(changes)
        return settled.count
    }

    // MARK: Token, settings, upkeep

    public func receiptToken() throws(JournalError) -> String {
        if let token = try receiptSetting("token") { return token }
        // Two receivers starting together make one token: the first insert wins.
        try attempt {
            _ = try session.query("INSERT INTO receipt_setting (key, value) VALUES ('token', \(ReceiptToken.make())) ON CONFLICT DO NOTHING")
        }
        guard let token = try receiptSetting("token") else { throw JournalError.closed(path: location) }
        return token
    }

    public func receiptSetting(_ key: String) throws(JournalError) -> String? {
        try attempt {
            try session.query("SELECT value FROM receipt_setting WHERE key = \(key)").first?.cells.string(0)
        }
    }

    public func setReceiptSetting(_ key: String, _ value: String?) throws(JournalError) {
        if let value {
            try update("""
                INSERT INTO receipt_setting (key, value) VALUES (\(key), \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """)
        } else {
            try update("DELETE FROM receipt_setting WHERE key = \(key)")
        }
    }

    public func pruneReceipts(before: Int64) throws(JournalError) -> Int {
        try attempt {
            try session.query("UPDATE receipt SET raw = NULL WHERE received_at < \(before) AND raw IS NOT NULL RETURNING 1").count
        }
    }

    public func expireDeliveries(cid: Int64, sentBefore before: Int64) throws(JournalError) -> Int {
        let time = currentTime()
        return try attempt {
            try session.transaction {
                let inserted = try session.query(
                    """
                    INSERT INTO delivery (cid, row, state, sent_at, event_at)
                    SELECT m.cid, m.row, \(literal: DeliveryState.unknown), m.updated_at, \(time) FROM message AS m
                    WHERE m.cid = \(cid) AND m.state = \(MessageState.sent) AND m.updated_at < \(before)
                        AND NOT EXISTS (SELECT 1 FROM delivery AS d WHERE d.cid = m.cid AND d.row = m.row)
                    ON CONFLICT (cid, row) DO NOTHING RETURNING 1
                    """).count
                let updated = try session.query(
                    """
                    UPDATE delivery SET state = \(literal: DeliveryState.unknown), event_at = \(time)
                    WHERE cid = \(cid) AND state = \(literal: DeliveryState.pending) AND sent_at < \(before) RETURNING 1
                    """).count
                var changes = DeliveryTallyChanges()
                changes.add(cid, .unknown, nil, inserted + updated)
                changes.add(cid, .pending, nil, -updated)
                try writeDeliveryCounters(changes)
                return inserted + updated
            }
        }
    }

    public func unsettledRows(in states: [MessageState], limit: Int) throws(JournalError) -> [(cid: Int64, campaign: String, row: Int)] {
        try attempt {
            try session.query(
                """
                SELECT m.cid, c.id, m.row FROM message AS m JOIN campaign AS c ON c.cid = m.cid
                WHERE m.state = ANY(\(states.map { Int16($0.rawValue) })) AND c.mode = \(literal: RunMode.real) LIMIT \(limit)
                """).map { row in
                (try row.cells.int64(0), try row.cells.string(1) ?? "", try row.cells.int(2))
            }
        }
    }

    public func unmatchedReceipts() throws(JournalError) -> [String: Int] { try campaignZeroCounts("unmatched") }

    public func replyCounts() throws(JournalError) -> [String: Int] { try campaignZeroCounts("reply") }

    private func campaignZeroCounts(_ state: String) throws(JournalError) -> [String: Int] {
        try attempt {
            var counts: [String: Int] = [:]
            for row in try session.query("SELECT code, n FROM delivery_tally WHERE cid = 0 AND state = \(state) AND n != 0") {
                counts[try row.cells.string(0) ?? "", default: 0] += Int(clamping: try row.cells.int64(1))
            }
            return counts
        }
    }

    public func reportedCost(cid: Int64) throws(JournalError) -> Money? {
        try attempt {
            let spent = try session.query(
                """
                SELECT n
                FROM delivery_tally
                WHERE cid = \(cid) AND state = 'price' AND code = ''
                """).first?.cells.int64(0) ?? 0
            return spent == 0 ? nil : Money(nanos: spent)
        }
    }

    /// Two: while one connection's batch is written or committed, the other's is read and
    /// locked (measured on 2 cores: 26-28k records/s through one, 35-46k through two, no
    /// more through three or four).
    public var importWriters: Int { 2 }

    public func inDoubtWithinGrace(cid: Int64, since: Int64) throws(JournalError) -> Int {
        try attempt {
            try session.query(
                """
                SELECT count(*)
                FROM message
                WHERE cid = \(cid) AND state = \(MessageState.inDoubt) AND updated_at >= \(since)
                """).first?.cells.int(0) ?? 0
        }
    }

    public func setSuppressUndeliverable(cid: Int64, _ on: Bool) throws(JournalError) {
        try update("UPDATE campaign SET suppress_undeliverable = \(on) WHERE cid = \(cid)")
    }
}

extension DeliveryTallyChanges {
    func add(to upserts: inout CounterUpserts) {
        let deltas = sorted, latency = sortedLatency
        if !deltas.isEmpty {
            upserts.add(
                """
                INSERT INTO delivery_tally AS t (cid, state, code, n) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[],
                    $4::int8[])
                ON CONFLICT (cid, state, code) DO UPDATE SET n = t.n + excluded.n
                """) {
                    $0.append(deltas.map(\.key.cid)); $0.append(deltas.map(\.key.state)); $0.append(deltas.map(\.key.code))
                    $0.append(deltas.map { Int64($0.value) })
                }
        }
        if !latency.isEmpty {
            upserts.add(
                """
                INSERT INTO delivery_latency AS l (cid, bucket, n) SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[])
                ON CONFLICT (cid, bucket) DO UPDATE SET n = l.n + excluded.n
                """) {
                    $0.append(latency.map(\.key.cid)); $0.append(latency.map { Int64($0.key.bucket) })
                    $0.append(latency.map { Int64($0.value) })
                }
        }
    }
}
