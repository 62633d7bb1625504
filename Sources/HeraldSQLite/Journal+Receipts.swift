import Foundation
import HeraldCore
import HeraldJournal

/// What one batch of events did.
public struct ReceiptBatchResult: Sendable, Equatable {
    /// Events that found their message.
    public var matched = 0
    /// Events that name no message of this journal (kept, counted, never an error).
    public var unmatched = 0
    /// In-doubt (or waiting) rows an event proved accepted, now `sent`.
    public var settled = 0
    /// Replies from recipients (kept; stop and start keywords acted on).
    public var replies = 0

    public init() {}
}

/// Where a message stands when an event meets it.
private struct Target {
    let cid: Int64
    let row: Int
    let state: MessageState
    let reason: String?
    let cost: Int64
    let spendMonth: Int?
    let attemptAt: Int64
    let doubt: String?
    let region: String?
    /// What the receipts said so far (nil before the first event).
    let delivery: Delivered?
}

private struct Delivered {
    let state: DeliveryState?
    let read: Bool
    let sentAt: Int64?
    let code: String?
    /// What the provider reported it charged (nano-dollars).
    let price: Int64?
    /// When its delivery state last changed.
    let eventAt: Int64?
}

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
            var recorder = try ReceiptRecorder(journal: self, time: time)
            for event in events {
                let target = try recorder.locate(event.match, resolve: resolve)
                try recorder.audit(event, target: target)
                if let reply = event.reply {
                    // A recipient's reply: kept, counted, and acted on when it says stop or start.
                    result.replies += 1
                    recorder.replies[event.source.rawValue, default: 0] += 1
                    try recorder.answer(reply, keywords: keywords)
                    continue
                }
                guard let target else {
                    result.unmatched += 1
                    recorder.unmatched[event.source.rawValue, default: 0] += 1
                    continue
                }
                result.matched += 1
                if try recorder.apply(event, to: target) { result.settled += 1 }
            }
            try recorder.flush()
            return result
        }
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
            if let target = try recorder.target(cid: cid, row: row), try recorder.settle(target) { settled += 1 }
        }
        try recorder.flush()
        return settled
    }

    // MARK: Token and base URL

    /// The secret in every callback URL, made on first use and kept in the journal.
    public func receiptToken() throws(JournalError) -> String {
        if let token = try receiptSetting("token") { return token }
        return try rotateReceiptToken()
    }

    /// Replaces the token: URLs with the old one answer 404 from now on.
    @discardableResult
    public func rotateReceiptToken() throws(JournalError) -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try setReceiptSetting("token", token)
        return token
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

/// Delivery counter changes of one transaction (like `TallyChanges` for send states).
struct DeliveryTallyChanges {
    struct Key: Hashable { let cid: Int64; let state: String; let code: String }
    struct LatencyKey: Hashable { let cid: Int64; let bucket: Int }
    var deltas: [Key: Int] = [:]
    var latency: [LatencyKey: Int] = [:]

    /// `state` is a delivery state, `read`, or `unmatched` (cid 0, code = provider).
    mutating func add(_ cid: Int64, _ state: String, _ code: String?, _ count: Int = 1) {
        guard count != 0 else { return }
        deltas[Key(cid: cid, state: state, code: code ?? ""), default: 0] += count
    }

    mutating func add(_ cid: Int64, _ state: DeliveryState, _ code: String?, _ count: Int = 1) {
        // Codes are kept for undelivered messages only: the breakdown status shows.
        add(cid, state.rawValue, state == .undelivered ? code : nil, count)
    }
}

/// One transaction's worth of receipt work: statements prepared once, campaign ids
/// resolved once, counters summed and written at the end.
private struct ReceiptRecorder {
    let journal: Journal
    let time: Int64
    var changes = DeliveryTallyChanges()
    var tally: [Int64: TallyChanges] = [:]
    var report: [Int64: ReportCounters] = [:]
    var ledger: [LedgerKey: (reserved: Int64, spent: Int64)] = [:]
    var unmatched: [String: Int] = [:]
    var replies: [String: Int] = [:]
    var suppressionChanged = false
    /// Whether a campaign suppresses numbers a receipt calls invalid, by cid.
    var suppressesUndeliverable: [Int64: Bool] = [:]
    var campaigns: [String: Int64?] = [:]
    struct LedgerKey: Hashable { let cid: Int64; let month: Int }

    let byRef: Statement, message: Statement, upsert: Statement, insertAudit: Statement,
        markSent: Statement, campaign: Statement

    init(journal: Journal, time: Int64) throws {
        self.journal = journal
        self.time = time
        let db = journal.db
        byRef = try db.statement("SELECT cid, row FROM message INDEXED BY message_ref WHERE provider_ref = ?1 LIMIT 1")
        // The row and its delivery state in one lookup.
        message = try db.statement(
            """
            SELECT m.state, m.reason, m.cost, m.spend_month, m.updated_at, m.doubt, d.state, d.read_at, d.sent_at, d.code, d.price,
                d.event_at, m.region
            FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row WHERE m.cid = ?1 AND m.row = ?2
            """)
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
                detail = 'accepted: a delivery receipt arrived for it', spend_month = coalesce(spend_month, ?3)
            WHERE cid = ?1 AND row = ?2 AND state IN (\(MessageState.inDoubt.sql), \(MessageState.retry.sql))
            """)
        campaign = try db.statement("SELECT cid FROM campaign WHERE id = ?1 AND mode = '\(RunMode.real.rawValue)'")
    }

    mutating func locate(_ match: DeliveryEvent.Match, resolve: ((String) -> (cid: Int64, row: Int)?)?) throws -> Target? {
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

    func target(cid: Int64, row: Int) throws -> Target? {
        message.bind(1, cid).bind(2, row)
        defer { message.reset() }
        guard try message.step(), let state = MessageState(rawValue: message.int(0)) else { return nil }
        let delivery = message.isNull(6) ? nil
            : Delivered(state: message.string(6).flatMap(DeliveryState.init(rawValue:)), read: !message.isNull(7),
                        sentAt: message.isNull(8) ? nil : message.int64(8), code: message.string(9),
                        price: message.isNull(10) ? nil : message.int64(10), eventAt: message.isNull(11) ? nil : message.int64(11))
        return Target(cid: cid, row: row, state: state, reason: message.string(1), cost: message.int64(2),
                      spendMonth: message.optionalInt(3), attemptAt: message.int64(4), doubt: message.string(5),
                      region: message.string(12), delivery: delivery)
    }

    func audit(_ event: DeliveryEvent, target: Target?) throws {
        let reference: String?
        switch event.match {
        case .reference(let ref): reference = ref
        case .row(_, _, let ref): reference = ref
        case .journalRow, .none: reference = nil
        }
        insertAudit.bind(1, time).bind(2, event.source.rawValue).bind(3, event.type).bind(4, reference)
            .bind(5, target?.cid).bind(6, target?.row).bind(7, event.raw)
        try insertAudit.run()
    }

    /// Moves the message's delivery state; returns whether the event settled the row.
    mutating func apply(_ event: DeliveryEvent, to target: Target) throws -> Bool {
        let existing = target.delivery
        let old = existing?.state
        let new = event.merged(into: old)
        let at = event.at ?? time
        let sentAt = existing?.sentAt ?? target.attemptAt
        let newlyRead = event.read && !(existing?.read ?? false)
        let changesState = new != old
        if changesState || newlyRead || event.price != nil || existing == nil {
            upsert.bind(1, target.cid).bind(2, target.row).bind(3, (new ?? .pending).rawValue)
                .bind(4, changesState ? event.code : nil).bind(5, changesState ? event.detail : nil)
                .bind(6, sentAt).bind(7, changesState ? at : nil).bind(8, event.read ? at : nil)
                .bind(9, event.price?.nanos)
            try upsert.run()
        }
        if changesState || existing == nil {
            if let old { changes.add(target.cid, old, nil, -1) }
            // Counted under the code the row keeps (this event's, else an earlier one's).
            changes.add(target.cid, new ?? .pending, event.code ?? existing?.code)
            if new == .delivered || new == .fallback {
                let bucket = DeliverySummary.latencyBucket(milliseconds: max(0, at.subtractingReportingOverflow(sentAt).partialValue))
                changes.latency[.init(cid: target.cid, bucket: bucket), default: 0] += 1
            }
        }
        if newlyRead { changes.add(target.cid, "read", nil) }
        if changesState || (event.price != nil && event.price?.nanos != existing?.price) {
            // The report's counters: what the delivery adds now minus what it added before.
            var moved = ReportCounters()
            moved.addDelivery(old, at: existing?.eventAt, price: existing?.price, region: target.region, sign: -1)
            moved.addDelivery(new, at: changesState ? at : existing?.eventAt, price: event.price?.nanos ?? existing?.price,
                              region: target.region)
            report[target.cid, default: ReportCounters()].merge(moved)
        }
        // The provider-reported cost, summed in a counter (`status` never sums the rows).
        if let price = event.price?.nanos, price != existing?.price ?? 0 {
            changes.add(target.cid, "price", nil, Int(price - (existing?.price ?? 0)))
        }
        if changesState, new == .undelivered, event.invalidNumber, try suppressesInvalid(target.cid) {
            try journal.suppressRecipient(cid: target.cid, row: target.row, reason: "invalid number (receipt \(event.type))",
                                          source: .undeliverable, time: time)
        }
        return try settle(target)
    }

    /// An in-doubt or waiting row that has an event was accepted: it becomes `sent`.
    mutating func settle(_ target: Target) throws -> Bool {
        guard target.state == .inDoubt || target.state == .retry else { return false }
        let month = target.spendMonth ?? BillingMonth.of(milliseconds: time)
        markSent.bind(1, target.cid).bind(2, target.row).bind(3, month)
        try markSent.run()
        guard journal.db.changes == 1 else { return false }
        tally[target.cid, default: TallyChanges()].move(
            from: TallyKey(target.state, code: target.reason), to: TallyKey(.sent))
        // Counted as sent when it was sent (the attempt's time, which the row keeps).
        report[target.cid, default: ReportCounters()].move(
            region: target.region, cost: target.cost, from: target.state, at: target.attemptAt, to: .sent, at: target.attemptAt)
        if target.cost != 0 {
            var delta = ledger[LedgerKey(cid: target.cid, month: month)] ?? (0, 0)
            if target.state == .inDoubt, target.spendMonth != nil {
                // Its reservation becomes spend.
                delta.reserved -= target.cost
                delta.spent += target.cost
            } else if target.doubt == nil {
                // Released when it was put back to wait: spent now.
                delta.spent += target.cost
            }
            ledger[LedgerKey(cid: target.cid, month: month)] = delta
        }
        return true
    }

    /// A stop reply puts the number on the list for every sender; a start reply takes
    /// off what replies and provider opt-outs put there (never what a person added).
    mutating func answer(_ reply: DeliveryEvent.Reply, keywords: ReplyKeywords) throws {
        guard let intent = keywords.intent(of: reply.text),
            let number = try? PhoneNumber.parse(Array(reply.from.utf8))
        else { return }
        let destination = Int64(bitPattern: number.digits)
        let db = journal.db
        switch intent {
        case .stop:
            let insert = try db.statement(
                """
                INSERT OR IGNORE INTO suppression (dest, scope, reason, source, added_at)
                VALUES (?1, '', ?2, '\(SuppressionSource.reply.rawValue)', ?3)
                """)
            insert.bind(1, destination).bind(2, "replied \(reply.text.prefix(40))").bind(3, time)
            try insert.run()
            suppressionChanged = suppressionChanged || db.changes > 0
        case .start:
            let delete = try db.statement(
                """
                DELETE FROM suppression WHERE dest = ?1
                    AND source IN ('\(SuppressionSource.reply.rawValue)', '\(SuppressionSource.optedOut.rawValue)')
                """)
            delete.bind(1, destination)
            try delete.run()
            suppressionChanged = suppressionChanged || db.changes > 0
        }
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
        for (provider, count) in unmatched { changes.add(0, "unmatched", provider, count) }
        for (provider, count) in replies { changes.add(0, "reply", provider, count) }
        if suppressionChanged { try journal.bumpSuppressionVersion() }
        try journal.applyDelivery(changes)
        for (cid, change) in tally { try journal.apply(change, cid: cid) }
        for (cid, change) in report { try journal.apply(change, cid: cid) }
        var channels: [Int64: Channel] = [:]
        for (key, delta) in ledger {
            let channel = try channels[key.cid] ?? journal.channel(cid: key.cid)
            channels[key.cid] = channel
            try journal.adjustLedger(cid: key.cid, month: key.month, channel: channel, reserved: delta.reserved, spent: delta.spent)
        }
        changes = DeliveryTallyChanges()
        tally = [:]
        report = [:]
        ledger = [:]
        unmatched = [:]
        replies = [:]
        suppressionChanged = false
    }
}

extension Journal {
    /// Rows whose send is not settled as accepted (sending, in doubt, waiting to be
    /// retried) in campaigns sent for real, with their campaign id: for matching events
    /// by references derived from campaign and row (Agile's message ids).
    public func unsettledRows(limit: Int = 1_000_000) throws(JournalError) -> [(cid: Int64, campaign: String, row: Int)] {
        try read {
            var rows: [(Int64, String, Int)] = []
            for state in [MessageState.sending, .inDoubt, .retry] {
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
