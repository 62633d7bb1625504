import HeraldCore
import HeraldJournal

extension PostgresJournal {
    public func fallbackCandidates(cid: Int64, proof: RCSFailureProof, routes: [Int],
                                   after: Int64) throws(JournalError) -> (rows: [FallbackCandidate], last: Int64) {
        try attempt {
            var last = after
            var signals: [Int: String] = [:]
            for row in try session.query(
                """
                SELECT eid, row, type FROM receipt
                WHERE eid > \(after) AND cid = \(cid) AND provider = \(proof.source.rawValue) AND type = ANY(\(proof.types)) ORDER BY eid
                """)
            {
                let c = row.cells
                last = try c.int64(0)
                if let line = try c[1].decode(Int?.self) { signals[line] = try c.string(2) ?? "" }
            }
            let rows = try candidates(cid: cid, signals: signals, lock: false)
                .filter { routes.contains($0.route) && RCSFallbackRule.mayMove($0, from: $0.route) }
            return (rows, last)
        }
    }

    public func fallBack(cid: Int64, _ moves: [FallbackMove]) throws(JournalError) -> Int {
        guard !moves.isEmpty else { return 0 }
        return try attempt {
            try session.transaction {
                let time = currentTime()
                // Locked in row order, read again: another sender may have moved them first.
                let locked = try candidates(cid: cid, signals: Dictionary(moves.map { ($0.row, $0.signal) }) { first, _ in first },
                                            lock: true)
                let byRow = Dictionary(locked.map { ($0.row, $0) }) { first, _ in first }
                var changes = ReceiptChanges()
                var applied: [FallbackMove] = []
                for move in moves.sorted(by: { $0.row < $1.row }) {
                    guard let candidate = byRow[move.row], RCSFallbackRule.mayMove(candidate, from: move.from) else { continue }
                    changes.fellBack(candidate, move, cid: cid, at: time)
                    applied.append(move)
                }
                guard !applied.isEmpty else { return 0 }
                let rows = applied.map { Int32(clamping: $0.row) }
                try session.query(
                    """
                    UPDATE message AS m SET state = \(MessageState.retry), reason = \(Reason.rcsFallback.rawValue), detail = v.detail,
                        route = v.route, parts = v.parts, cost = v.cost, attempts = 0, provider_ref = NULL, not_before = \(time),
                        updated_at = \(time), spend_month = NULL, doubt = NULL, earlier_spent = NULL, sender = NULL, owner = NULL
                    FROM unnest(\(rows)::int4[], \(applied.map(\.detail))::text[], \(applied.map { Int32($0.to) })::int4[],
                                \(applied.map { Int32(clamping: $0.parts) })::int4[], \(applied.map(\.cost))::int8[])
                        AS v(row, detail, route, parts, cost)
                    WHERE m.cid = \(cid) AND m.row = v.row
                    """)
                try session.query("DELETE FROM delivery WHERE cid = \(cid) AND row = ANY(\(rows)::int4[])")
                try session.query(
                    """
                    INSERT INTO route_switch (cid, row, at, from_route, to_route, reason, spent)
                    SELECT \(cid), v.row, \(time), v.source, v.target, v.reason, v.spent
                    FROM unnest(\(rows)::int4[], \(applied.map { Int32($0.from) })::int4[], \(applied.map { Int32($0.to) })::int4[],
                                \(applied.map(\.routeMove.reason))::text[], \(applied.map { byRow[$0.row]?.cost ?? 0 })::int8[])
                        AS v(row, source, target, reason, spent)
                    """)
                try writeCounters(changes)
                return applied.count
            }
        }
    }

    public func awaitingReceipts(cid: Int64, routes: [Int]) throws(JournalError) -> Int {
        guard !routes.isEmpty else { return 0 }
        return try attempt {
            let finals = DeliveryState.allCases.filter(\.isFinal).map(\.rawValue)
            return try session.query(
                """
                SELECT count(*) FROM message AS m WHERE m.cid = \(cid) AND m.state = \(MessageState.sent)
                    AND m.route = ANY(\(routes.map { Int32($0) })::int4[])
                    AND NOT EXISTS (SELECT 1 FROM delivery AS d WHERE d.cid = m.cid AND d.row = m.row AND d.state = ANY(\(finals)))
                """).first.map { try $0.cells.int(0) } ?? 0
        }
    }

    /// The facts of the rows proving events named (locked with `lock`, in row order).
    private func candidates(cid: Int64, signals: [Int: String], lock: Bool) throws -> [FallbackCandidate] {
        let rows = signals.keys.sorted().compactMap { Int32(exactly: $0) }
        guard !rows.isEmpty else { return [] }
        var found: [FallbackCandidate] = []
        for row in try session.query(
            """
            SELECT m.row, m.route, m.state, m.body, m.region, m.cost, m.updated_at, d.state, d.code, d.price, d.event_at,
                d.read_at IS NOT NULL
            FROM message AS m LEFT JOIN delivery AS d ON d.cid = m.cid AND d.row = m.row
            WHERE m.cid = \(cid) AND m.row = ANY(\(rows)::int4[]) ORDER BY m.row \(sql: lock ? "FOR UPDATE OF m" : "")
            """)
        {
            let c = row.cells
            let line = try c.int(0)
            guard let state = MessageState(rawValue: try c.int(2)) else { continue }
            found.append(FallbackCandidate(
                row: line, route: RouteIndex.checked(try c.int64(1)), state: state, body: try c.string(3), region: try c.string(4),
                signal: signals[line] ?? "", cost: try c.int64(5), sentAt: try c.int64(6),
                delivery: try c.string(7).flatMap(DeliveryState.init(rawValue:)), code: try c.string(8),
                price: try c[9].decode(Int64?.self), eventAt: try c[10].decode(Int64?.self), read: try c[11].decode(Bool.self)))
        }
        return found
    }
}
