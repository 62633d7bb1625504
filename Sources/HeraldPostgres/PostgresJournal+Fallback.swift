import HeraldCore
import HeraldJournal
import PostgresNIO

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
        var binds = PostgresBindings()
        binds.append(cid)
        binds.append(rows)
        // The shared select, then this store's condition on bound values.
        for row in try session.query(unsafeSQL: FallbackCandidate.selectSQL
            + " WHERE m.cid = $1 AND m.row = ANY($2::int4[]) ORDER BY m.row" + (lock ? " FOR UPDATE OF m" : ""), binds)
        {
            let named = NamedRow(row)
            guard let line = try named.int64("row").flatMap({ Int(exactly: $0) }),
                  let candidate = try FallbackCandidate(row: named, signal: signals[line] ?? "") else { continue }
            found.append(candidate)
        }
        return found
    }
}
