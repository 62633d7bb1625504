import Foundation
import HeraldCore
import HeraldJournal

extension Journal {
    /// Records `events` in one transaction: each is appended to `receipt` (the audit
    /// copy), matched to its message, and moves the message's delivery state (final
    /// states never change). An event for a row `in_doubt` (or waiting to be retried)
    /// proves the provider accepted it: the row becomes `sent` and its reservation
    /// spend. `resolve` names the row for a reference the index does not know (the
    /// engine derives Agile's message ids for rows still unsettled).
    @discardableResult
    public func recordReceipts(_ events: [DeliveryEvent], receivedAt: Int64? = nil, keywords: ReplyKeywords = ReplyKeywords(),
                               resolve: ((String) -> (cid: Int64, row: Int)?)? = nil) throws(JournalError) -> ReceiptBatchResult {
        let time = receivedAt ?? now()
        return try write {
            var result = ReceiptBatchResult()
            let replayed = try takeEnvelopes(of: events, time: time)
            result.replayed = events.count { $0.envelope.map(replayed.contains) ?? false }
            var recorder = try ReceiptRecorder(journal: self, time: time)
            for event in events where !(event.envelope.map(replayed.contains) ?? false) {
                let target = try recorder.locate(event.match, resolve: resolve).flatMap { $0.mayHaveBeenSent ? $0 : nil }
                try recorder.audit(event, target: target)
                if let reply = event.reply {
                    // A recipient's reply: kept, counted, and acted on when it says stop or start.
                    result.replies += 1
                    recorder.changes.reply(from: event.source)
                    try recorder.answer(reply, at: event.at ?? time, keywords: keywords)
                    continue
                }
                guard var target else {
                    result.unmatched += 1
                    recorder.changes.unmatchedEvent(from: event.source)
                    continue
                }
                result.matched += 1
                if try recorder.apply(event, to: &target) { result.settled += 1 }
            }
            try recorder.flush()
            return result
        }
    }

    /// Records the signed messages `events` came in; returns the ids taken before (their
    /// events are ignored). Ids older than `ReceiptEnvelope.keptFor` are forgotten.
    private func takeEnvelopes(of events: [DeliveryEvent], time: Int64) throws -> Set<String> {
        let ids = Set(events.compactMap(\.envelope))
        guard !ids.isEmpty else { return [] }
        let prune = try db.statement("DELETE FROM receipt_envelope WHERE taken_at < ?1")
        prune.bind(1, time - ReceiptEnvelope.keptFor)
        try prune.run()
        let take = try db.statement("INSERT OR IGNORE INTO receipt_envelope (id, taken_at) VALUES (?1, ?2)")
        var taken: Set<String> = []
        for id in ids {
            take.bind(1, id).bind(2, time)
            try take.run()
            if db.changes == 0 { taken.insert(id) }
        }
        return taken
    }

    /// In-doubt rows that an event already answered (it arrived while the row was still
    /// `sending`, under a process that then died) become `sent`.
    func settleReceipted(cid: Int64, time: Int64) throws -> Int {
        let select = try db.statement(
            """
            SELECT m.row FROM \(MessageState.inDoubt.table(as: "m")) JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
            WHERE m.cid = ?1 AND m.state = \(MessageState.inDoubt.sql)
            """)
        select.bind(1, cid)
        var rows: [Int] = []
        while try select.step() { rows.append(select.int(0)) }
        select.reset()
        guard !rows.isEmpty else { return 0 }
        var recorder = try ReceiptRecorder(journal: self, time: time)
        var settled = 0
        for row in rows {
            if var target = try recorder.target(cid: cid, row: row), try recorder.settle(&target) { settled += 1 }
        }
        try recorder.flush()
        return settled
    }

    /// Accepted answers from a sender that lost the campaign (fencing): each is evidence,
    /// as a receipt is, for a row still in doubt or waiting to be sent again; a row sent
    /// or claimed since is left as it is (SQLite keeps no epochs: one holder at a time).
    func settleLateAcceptances(cid: Int64, _ accepted: [Settlement]) throws(JournalError) {
        guard !accepted.isEmpty else { return }
        try write {
            var recorder = try ReceiptRecorder(journal: self, time: now(), detail: Fencing.lateDetail)
            let reference = try db.statement("UPDATE message SET provider_ref = coalesce(provider_ref, ?3) WHERE cid = ?1 AND row = ?2")
            for settlement in accepted {
                guard var target = try recorder.target(cid: cid, row: settlement.row), try recorder.settle(&target) else { continue }
                reference.bind(1, cid).bind(2, settlement.row).bind(3, settlement.providerRef)
                try reference.run()
            }
            try recorder.flush()
        }
    }

    // MARK: Token and base URL

    /// The secret in every callback URL, made on first use and kept in the journal.
    public func receiptToken() throws(JournalError) -> String {
        if let token = try receiptSetting("token") { return token }
        return try rotateReceiptToken()
    }

    public func receiptSetting(_ key: String) throws(JournalError) -> String? {
        try read {
            let statement = try db.statement("SELECT value FROM receipt_setting WHERE key = ?1")
            statement.bind(1, key)
            defer { statement.reset() }
            return try statement.step() ? statement.string(0) : nil
        }
    }

    public func setReceiptSetting(_ key: String, _ value: String?) throws(JournalError) {
        try write {
            let statement = try db.statement(
                value == nil ? "DELETE FROM receipt_setting WHERE key = ?1"
                    : "INSERT INTO receipt_setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")
            statement.bind(1, key).bind(2, value)
            try statement.run()
        }
    }

    // MARK: Upkeep

    /// Drops the raw bodies of events received before `before` (the events stay, with
    /// type, time and match). Returns how many bodies went.
    public func pruneReceipts(before: Int64) throws(JournalError) -> Int {
        try write {
            let statement = try db.statement("UPDATE receipt SET raw = NULL WHERE received_at < ?1 AND raw IS NOT NULL")
            statement.bind(1, before)
            try statement.run()
            return db.changes
        }
    }

    /// Sent messages with no final event, sent before `before`, become `unknown` (as
    /// AWS reports after 72 hours). Returns how many.
    public func expireDeliveries(cid: Int64, sentBefore before: Int64) throws(JournalError) -> Int {
        try write {
            let insert = try db.statement(
                """
                INSERT INTO delivery (cid, row, state, sent_at, event_at)
                SELECT m.cid, m.row, '\(DeliveryState.unknown.rawValue)', m.updated_at, ?3 FROM message AS m
                WHERE m.cid = ?1 AND m.state = \(MessageState.sent.sql) AND m.updated_at < ?2
                    AND NOT EXISTS (SELECT 1 FROM delivery AS d WHERE d.cid = m.cid AND d.row = m.row)
                ON CONFLICT (cid, row) DO NOTHING
                """)
            insert.bind(1, cid).bind(2, before).bind(3, now())
            try insert.run()
            let inserted = db.changes
            let update = try db.statement(
                """
                UPDATE delivery SET state = '\(DeliveryState.unknown.rawValue)', event_at = ?3
                WHERE cid = ?1 AND state = '\(DeliveryState.pending.rawValue)' AND sent_at < ?2
                """)
            update.bind(1, cid).bind(2, before).bind(3, now())
            try update.run()
            let updated = db.changes
            var changes = DeliveryTallyChanges()
            changes.add(cid, .unknown, nil, inserted + updated)
            changes.add(cid, .pending, nil, -updated)
            try applyDelivery(changes)
            return inserted + updated
        }
    }

    func applyDelivery(_ changes: DeliveryTallyChanges) throws {
        let upsert = try db.statement(
            "INSERT INTO delivery_tally (cid, state, code, n) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (cid, state, code) DO UPDATE SET n = n + ?4")
        for (key, count) in changes.deltas where count != 0 {
            upsert.bind(1, key.cid).bind(2, key.state).bind(3, key.code).bind(4, count)
            try upsert.run()
        }
        let latency = try db.statement(
            "INSERT INTO delivery_latency (cid, bucket, n) VALUES (?1, ?2, ?3) ON CONFLICT (cid, bucket) DO UPDATE SET n = n + ?3")
        for (key, count) in changes.latency {
            latency.bind(1, key.cid).bind(2, key.bucket).bind(3, count)
            try latency.run()
        }
    }
}

/// One transaction's worth of receipt work: statements prepared once, campaign ids
/// resolved once; what each event does is `ReceiptChanges`' rule, its counter moves
/// summed there and written at the end.
private struct ReceiptRecorder {
    let journal: Journal
    let time: Int64
    /// What a row this settles keeps as its detail.
    var detail = ReceiptChanges.settledDetail
    var changes = ReceiptChanges()
    var suppressionChanged = false
    /// Whether a campaign suppresses numbers a receipt calls invalid, by cid.
    var suppressesUndeliverable: [Int64: Bool] = [:]
    var campaigns: [String: Int64?] = [:]

    let byRef: Statement, message: Statement, upsert: Statement, insertAudit: Statement,
        markSent: Statement, campaign: Statement, fellBack: Statement
    /// `message`'s columns by name (`ReceiptTarget.init(row:)`).
    let messageRow: StatementRow

    init(journal: Journal, time: Int64, detail: String = ReceiptChanges.settledDetail) throws {
        self.journal = journal
        self.time = time
        let db = journal.db
        byRef = try db.statement("SELECT cid, row FROM message INDEXED BY message_ref WHERE provider_ref = ?1 LIMIT 1")
        // The row and its delivery state in one lookup.
        message = try db.statement(
            """
            SELECT m.cid AS cid, m.row AS row, m.state AS state, m.reason AS reason, m.cost AS cost,
                m.spend_month AS spend_month, m.updated_at AS updated_at, m.doubt AS doubt, m.earlier_spent AS earlier_spent,
                m.region AS region, d.state AS delivery_state, d.read_at AS read_at, d.sent_at AS sent_at, d.code AS code, d.price AS price,
                d.event_at AS event_at
            FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row WHERE m.cid = ?1 AND m.row = ?2
            """)
        messageRow = StatementRow(message)
        upsert = try db.statement(
            """
            INSERT INTO delivery (cid, row, state, code, detail, sent_at, event_at, read_at, price)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (cid, row) DO UPDATE SET state = ?3, code = coalesce(?4, code), detail = coalesce(?5, detail),
                sent_at = coalesce(sent_at, ?6), event_at = coalesce(?7, event_at), read_at = coalesce(read_at, ?8),
                price = coalesce(?9, price)
            """)
        insertAudit = try db.statement(
            "INSERT INTO receipt (received_at, provider, type, ref, cid, row, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        markSent = try db.statement(
            """
            UPDATE message SET state = \(MessageState.sent.sql), reason = NULL, not_before = NULL,
                detail = ?4, spend_month = coalesce(spend_month, ?3)
            WHERE cid = ?1 AND row = ?2 AND state IN (\(MessageState.inDoubt.sql), \(MessageState.retry.sql))
            """)
        campaign = try db.statement("SELECT cid FROM campaign WHERE id = ?1 AND mode = '\(RunMode.real.rawValue)'")
        fellBack = try db.statement(
            "SELECT 1 FROM route_switch WHERE cid = ?1 AND row = ?2 AND reason LIKE '\(RCSFallbackRule.switchPrefix):%' LIMIT 1")
        self.detail = detail
    }

    mutating func locate(_ match: DeliveryEvent.Match, resolve: ((String) -> (cid: Int64, row: Int)?)?) throws -> ReceiptTarget? {
        switch match {
        case .none:
            return nil
        case .journalRow(let cid, let row):
            return try target(cid: cid, row: row)
        case .row(let id, let row, let reference):
            if let cid = try cid(of: id), let found = try target(cid: cid, row: row) { return found }
            return try reference.flatMap { try locate(.reference($0), resolve: resolve) }
        case .reference(let reference):
            byRef.bind(1, reference)
            let found = try byRef.step() ? (byRef.int64(0), byRef.int(1)) : nil
            byRef.reset()
            if let (cid, row) = found ?? resolve?(reference) { return try target(cid: cid, row: row) }
            return nil
        }
    }

    private mutating func cid(of id: String) throws -> Int64? {
        if let known = campaigns[id] { return known }
        campaign.bind(1, id)
        let cid = try campaign.step() ? campaign.int64(0) : nil
        campaign.reset()
        campaigns[id] = cid
        return cid
    }

    func target(cid: Int64, row: Int) throws -> ReceiptTarget? {
        message.bind(1, cid).bind(2, row)
        defer { message.reset() }
        guard try message.step() else { return nil }
        return try ReceiptTarget(row: messageRow)
    }

    func audit(_ event: DeliveryEvent, target: ReceiptTarget?) throws {
        insertAudit.bind(1, time).bind(2, event.source.rawValue).bind(3, event.type).bind(4, event.reference)
            .bind(5, target?.cid).bind(6, target?.row).bind(7, event.raw)
        try insertAudit.run()
    }

    /// Moves the message's delivery state; returns whether the event settled the row.
    mutating func apply(_ event: DeliveryEvent, to target: inout ReceiptTarget) throws -> Bool {
        if RCSFallbackRule.isRCSEvent(event) {
            fellBack.bind(1, target.cid).bind(2, target.row)
            target.fellBack = try fellBack.step()
            fellBack.reset()
            if RCSFallbackRule.ignores(event, for: target) { return false }
        }
        let (write, provesInvalid) = changes.deliver(event, to: &target, time: time)
        if let write {
            upsert.bind(1, write.cid).bind(2, write.row).bind(3, write.state.rawValue).bind(4, write.code).bind(5, write.detail)
                .bind(6, write.sentAt).bind(7, write.eventAt).bind(8, write.readAt).bind(9, write.price)
            try upsert.run()
        }
        if provesInvalid, try suppressesInvalid(target.cid) {
            try journal.suppressRecipient(cid: target.cid, row: target.row, reason: "invalid number (receipt \(event.type))",
                                          source: .undeliverable, time: time)
        }
        return try settle(&target)
    }

    /// An in-doubt or waiting row that has an event was accepted: it becomes `sent`.
    mutating func settle(_ target: inout ReceiptTarget) throws -> Bool {
        guard let month = ReceiptChanges.settlementMonth(of: target, time: time) else { return false }
        markSent.bind(1, target.cid).bind(2, target.row).bind(3, month).bind(4, detail)
        try markSent.run()
        guard journal.db.changes == 1 else { return false }
        changes.settled(&target, month: month)
        return true
    }

    /// A stop reply puts the number on the list for every sender; a start reply takes
    /// off what replies and provider opt-outs put there (never what a person added).
    mutating func answer(_ reply: DeliveryEvent.Reply, at: Int64, keywords: ReplyKeywords) throws {
        guard let change = ReplyChange(reply, at: at, keywords: keywords) else { return }
        let db = journal.db
        switch change {
        case .suppress(let destination, let reason, let at):
            let insert = try db.statement(
                """
                INSERT OR IGNORE INTO suppression (dest, scope, reason, source, added_at)
                VALUES (?1, '', ?2, '\(SuppressionSource.reply.rawValue)', ?3)
                """)
            insert.bind(1, destination).bind(2, reason).bind(3, at)
            try insert.run()
        case .release(let destination, let sources, let listedUpTo):
            let delete = try db.statement(
                """
                DELETE FROM suppression WHERE dest = ?1 AND added_at <= ?2
                    AND source IN (\(sources.map { "'\($0.rawValue)'" }.joined(separator: ", ")))
                """)
            delete.bind(1, destination).bind(2, listedUpTo)
            try delete.run()
        }
        suppressionChanged = suppressionChanged || db.changes > 0
    }

    private mutating func suppressesInvalid(_ cid: Int64) throws -> Bool {
        if let known = suppressesUndeliverable[cid] { return known }
        let statement = try journal.db.statement("SELECT suppress_undeliverable FROM campaign WHERE cid = ?1")
        statement.bind(1, cid)
        let on = try statement.step() && statement.int(0) != 0
        statement.reset()
        suppressesUndeliverable[cid] = on
        return on
    }

    mutating func flush() throws {
        changes.finish()
        if suppressionChanged { try journal.bumpSuppressionVersion() }
        try journal.applyDelivery(changes.delivery)
        for (cid, change) in changes.tally { try journal.apply(change, cid: cid) }
        for (cid, change) in changes.report { try journal.apply(change, cid: cid) }
        for (cid, deltas) in changes.ledger {
            let channel = try journal.channel(cid: cid)
            for delta in deltas.deltas {
                try journal.adjustLedger(cid: cid, month: delta.month, channel: channel, reserved: delta.reserved, spent: delta.spent)
            }
        }
        changes = ReceiptChanges()
        suppressionChanged = false
    }
}

extension Journal {
    public func unsettledRows(in states: [MessageState] = [.sending, .inDoubt, .retry],
                              limit: Int = 1_000_000) throws(JournalError) -> [(cid: Int64, campaign: String, row: Int)] {
        try read {
            var rows: [(Int64, String, Int)] = []
            for state in states {
                let statement = try db.statement(
                    """
                    SELECT m.cid, c.id, m.row FROM \(state.table(as: "m")) JOIN campaign AS c ON c.cid = m.cid
                    WHERE m.state = \(state.sql) AND c.mode = '\(RunMode.real.rawValue)' LIMIT ?1
                    """)
                statement.bind(1, limit)
                while try statement.step() { rows.append((statement.int64(0), statement.string(1) ?? "", statement.int(2))) }
                statement.reset()
            }
            return rows
        }
    }
}

extension Journal {
    /// `suppress_undeliverable` of a campaign: numbers a receipt calls invalid join the list.
    public func setSuppressUndeliverable(cid: Int64, _ on: Bool) throws(JournalError) {
        try write {
            let statement = try db.statement("UPDATE campaign SET suppress_undeliverable = ?2 WHERE cid = ?1")
            statement.bind(1, cid).bind(2, on ? 1 : 0)
            try statement.run()
        }
    }

    /// Replies from recipients, by provider.
    public func replyCounts() throws(JournalError) -> [String: Int] {
        try read {
            let statement = try db.statement("SELECT code, n FROM delivery_tally WHERE cid = 0 AND state = 'reply' AND n != 0")
            var counts: [String: Int] = [:]
            while try statement.step() { counts[statement.string(0) ?? "", default: 0] += statement.int(1) }
            statement.reset()
            return counts
        }
    }
}
