import HeraldCore
import HeraldJournal

extension Journal {
    public func fallbackCandidates(cid: Int64, proof: RCSFailureProof, routes: [Int],
                                   after: Int64) throws(JournalError) -> (rows: [FallbackCandidate], last: Int64) {
        try read {
            let types = proof.types.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
            let events = try db.statement(
                """
                SELECT eid, row, type FROM receipt
                WHERE eid > ?1 AND cid = ?2 AND provider = ?3 AND type IN (\(types)) ORDER BY eid
                """)
            events.bind(1, after).bind(2, cid).bind(3, proof.source.rawValue)
            var last = after
            var signals: [Int: String] = [:]
            while try events.step() {
                last = events.int64(0)
                if !events.isNull(1) { signals[events.int(1)] = events.string(2) ?? "" }
            }
            events.reset()
            var rows: [FallbackCandidate] = []
            for (row, signal) in signals.sorted(by: { $0.key < $1.key }) {
                if let candidate = try fallbackCandidate(cid: cid, row: row, signal: signal), routes.contains(candidate.route),
                    RCSFallbackRule.mayMove(candidate, from: candidate.route)
                {
                    rows.append(candidate)
                }
            }
            return (rows, last)
        }
    }

    /// Moves each row to its SMS route while `RCSFallbackRule.mayMove` still holds for it (read
    /// again in this transaction), with its counters; returns how many moved.
    public func fallBack(cid: Int64, _ moves: [FallbackMove]) throws(JournalError) -> Int {
        guard !moves.isEmpty else { return 0 }
        return try write {
            let time = now()
            var changes = ReceiptChanges()
            let update = try db.statement(
                """
                UPDATE message SET state = \(MessageState.retry.sql), reason = '\(Reason.rcsFallback.rawValue)', detail = ?3,
                    route = ?4, parts = ?5, cost = ?6, attempts = 0, provider_ref = NULL, not_before = ?7, updated_at = ?7,
                    spend_month = NULL, doubt = NULL, earlier_spent = NULL, sender = NULL
                WHERE cid = ?1 AND row = ?2 AND state = \(MessageState.sent.sql) AND route = ?8
                """)
            let forget = try db.statement("DELETE FROM delivery WHERE cid = ?1 AND row = ?2")
            let record = try db.statement(
                "INSERT INTO route_switch (cid, row, at, from_route, to_route, reason, spent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            var moved = 0
            for move in moves {
                guard let candidate = try fallbackCandidate(cid: cid, row: move.row, signal: move.signal), RCSFallbackRule.mayMove(candidate, from: move.from)
                else { continue }
                update.bind(1, cid).bind(2, move.row).bind(3, move.detail).bind(4, move.to).bind(5, move.parts).bind(6, move.cost)
                    .bind(7, time).bind(8, move.from)
                try update.run()
                guard db.changes == 1 else { continue }
                forget.bind(1, cid).bind(2, move.row)
                try forget.run()
                let routeMove = move.routeMove
                record.bind(1, cid).bind(2, move.row).bind(3, time).bind(4, routeMove.from).bind(5, routeMove.to).bind(6, routeMove.reason)
                    .bind(7, candidate.cost)
                try record.run()
                changes.fellBack(candidate, move, cid: cid, at: time)
                moved += 1
            }
            try applyDelivery(changes.delivery)
            for (cid, change) in changes.tally { try apply(change, cid: cid) }
            for (cid, change) in changes.report { try apply(change, cid: cid) }
            return moved
        }
    }

    /// How many rows of campaign `cid` sent on one of `routes` have no final delivery yet.
    public func awaitingReceipts(cid: Int64, routes: [Int]) throws(JournalError) -> Int {
        guard !routes.isEmpty else { return 0 }
        return try read {
            let finals = DeliveryState.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let count = try db.statement(
                """
                SELECT count(*) FROM message AS m WHERE m.cid = ?1 AND m.state = \(MessageState.sent.sql)
                    AND m.route IN (\(routes.map(String.init).joined(separator: ", ")))
                    AND NOT EXISTS (SELECT 1 FROM delivery AS d WHERE d.cid = m.cid AND d.row = m.row AND d.state IN (\(finals)))
                """)
            count.bind(1, cid)
            defer { count.reset() }
            return try count.step() ? count.int(0) : 0
        }
    }

    /// The facts of one row a proving event named.
    private func fallbackCandidate(cid: Int64, row: Int, signal: String) throws -> FallbackCandidate? {
        let select = try db.statement(FallbackCandidate.selectSQL + " WHERE m.cid = ?1 AND m.row = ?2")
        select.bind(1, cid).bind(2, row)
        defer { select.reset() }
        guard try select.step() else { return nil }
        return try FallbackCandidate(row: StatementRow(select), signal: signal)
    }
}
