import Foundation
import HeraldCore
import HeraldJournal

import PostgresNIO

/// Sender pools on a shared journal: every process, whatever its campaign, counts an
/// identity's day in one `sender_day` row and takes its send slots from one `sender_bucket`
/// row, each locked for the step's transaction (in the order of their keys, after the
/// campaign row: one order for all, so no two steps wait on each other in a circle).
extension PostgresJournal {
    /// Today's units of every capped identity of the campaign's pools, locked until the step commits.
    func lockSenderDays(_ scopes: SenderScopes, time: Int64) throws -> [String: Int] {
        let keys = Set(scopes.pools.flatMap { $0?.identities.filter { $0.dailyCap != nil }.map(\.key) ?? [] }).sorted()
        guard !keys.isEmpty else { return [:] }
        let day = Int32(clamping: SenderChoice.day(of: time))
        try session.query(
            """
            INSERT INTO sender_day (identity, day, used) SELECT k, \(day), 0 FROM unnest(\(keys)::text[]) AS k
            ON CONFLICT DO NOTHING
            """)
        var used: [String: Int] = [:]
        for row in try session.query(
            "SELECT identity, used FROM sender_day WHERE day = \(day) AND identity = ANY(\(keys)) ORDER BY identity FOR UPDATE")
        {
            if let key = try row.cells.string(0) { used[key] = Int(clamping: try row.cells.int64(1)) }
        }
        return used
    }

    /// The identity chosen for each claimed row, on the row; what they take from each identity's day.
    func recordSenders(_ plan: ClaimPlan, cid: Int64) throws {
        guard let choice = plan.senderChoice else { return }
        if !plan.senders.isEmpty {
            let rows = Array(plan.senders.keys)
            try session.query(
                """
                UPDATE message m SET sender = v.sender
                FROM unnest(\(rows.map { Int32($0) })::int4[], \(rows.map { Int16(plan.senders[$0] ?? 0) })::int2[]) AS v(row, sender)
                WHERE m.cid = \(cid) AND m.row = v.row
                """)
        }
        guard !choice.added.isEmpty else { return }
        let keys = Array(choice.added.keys)
        try session.query(
            """
            UPDATE sender_day d SET used = d.used + v.units
            FROM unnest(\(keys)::text[], \(keys.map { Int64(choice.added[$0] ?? 0) })::int8[]) AS v(identity, units)
            WHERE d.identity = v.identity AND d.day = \(Int32(clamping: choice.day))
            """)
    }

    public func rememberedSenders(identities: [String], among numbers: [UInt64]?) throws(JournalError) -> SenderRecall {
        try attempt {
            var recall = SenderRecall(identities: identities)
            guard !recall.identities.isEmpty else { return recall }
            let keys = recall.identities
            let among = numbers.map { Set($0).map { Int64(bitPattern: $0) } }
            for row in try session.query(
                """
                SELECT dest, array_position(\(keys)::text[], identity) - 1 FROM sender_memory
                WHERE identity = ANY(\(keys)) AND (\(among == nil) OR dest = ANY(\(among ?? [])))
                """)
            {
                recall.add(UInt64(bitPattern: try row.cells.int64(0)), Int(clamping: try row.cells.int64(1)))
            }
            return recall
        }
    }

    /// The identity keys remembered for `numbers`, by number.
    private func remembered(_ numbers: Set<Int64>) throws -> [UInt64: [String]] {
        var keys: [UInt64: [String]] = [:]
        guard !numbers.isEmpty else { return keys }
        for row in try session.query("SELECT dest, identity FROM sender_memory WHERE dest = ANY(\(Array(numbers)))") {
            if let key = SenderMemory.checked(try row.cells.string(1)) {
                keys[UInt64(bitPattern: try row.cells.int64(0)), default: []].append(key)
            }
        }
        return keys
    }

    /// Gives the plan what is remembered (`SenderMemory`) for the numbers of the candidates that
    /// go from a pool, in one read.
    func recallSenders(_ candidates: [ClaimCandidate], into plan: inout ClaimPlan) throws {
        let numbers = Set(candidates.filter { plan.choosesSender($0) }.map { Int64(bitPattern: $0.destination) })
        guard !numbers.isEmpty else { return }
        let keys = try remembered(numbers)
        for number in numbers { plan.recall(UInt64(bitPattern: number), keys[UInt64(bitPattern: number)] ?? []) }
    }

    /// Records the claims' identities (sticky sender) for campaign `cid`, in one statement.
    func remember(_ memories: [SenderMemory], cid: Int64, time: Int64) throws {
        let latest = SenderMemory.latest(memories)
        guard !latest.isEmpty else { return }
        try session.query(
            """
            INSERT INTO sender_memory (dest, provider, identity, cid, at)
            SELECT v.dest, v.provider, v.identity, \(cid), \(time)
            FROM unnest(\(latest.map { Int64(bitPattern: $0.destination) })::int8[], \(latest.map(\.provider))::text[],
                \(latest.map(\.identity))::text[]) WITH ORDINALITY AS v(dest, provider, identity, n)
            ORDER BY v.n
            ON CONFLICT (dest, provider) DO UPDATE SET identity = excluded.identity, cid = excluded.cid, at = excluded.at
            """)
    }

    /// Moves each claimed row's slot (server seconds; nil: none yet) to no earlier than its
    /// identity's rate allows, by GCRA over the identity's shared bucket: a row may go at `t`
    /// when `t ≥ TAT − burst/rate`, and moves TAT to `max(TAT, t) + units/rate`. The rows of one
    /// identity are slotted in claim order and its TAT written back in the same transaction.
    func senderSlots(_ claimed: [ClaimCandidate], senders: [Int: Int], scopes: SenderScopes, slots: [Double?],
                     countsParts: Bool) throws -> (slots: [Double?], serverNow: Double?) {
        var byIdentity: [String: (identity: SenderPool.Identity, rows: [Int])] = [:]
        for (index, candidate) in claimed.enumerated() {
            guard let sender = senders[candidate.row] ?? candidate.sender, let pool = scopes.pool(route: candidate.route),
                  pool.identities.indices.contains(sender), let rate = pool.identities[sender].messagesPerSecond, rate > 0
            else { continue }
            let identity = pool.identities[sender]
            byIdentity[identity.key, default: (identity, [])].rows.append(index)
        }
        guard !byIdentity.isEmpty else { return (slots, nil) }
        var result = slots
        var serverNow: Double?
        for key in byIdentity.keys.sorted() {
            guard let (identity, rows) = byIdentity[key], let rate = identity.messagesPerSecond else { continue }
            try session.query(
                "INSERT INTO sender_bucket (identity, next_slot) VALUES (\(key), clock_timestamp()) ON CONFLICT DO NOTHING")
            guard let cells = try session.query(
                """
                SELECT extract(epoch from next_slot)::float8, extract(epoch from clock_timestamp())::float8
                FROM sender_bucket WHERE identity = \(key) FOR UPDATE
                """).first?.cells,
                let stored = try? cells.double(0), let now = try? cells.double(1)
            else { throw JournalError.server("the rate bucket of sender \(key) has no readable slot", path: location) }
            serverNow = now
            let pacing = Pacing(rate: rate, burst: identity.burst)
            let tolerance = pacing.burst / pacing.pacedRate
            var theoretical = max(stored, now)
            for index in rows {
                let units = Double(countsParts ? max(1, claimed[index].parts) : 1)
                let slot = max(now, result[index] ?? now, theoretical - tolerance)
                result[index] = slot
                theoretical = max(theoretical, slot) + units / pacing.pacedRate
            }
            try session.query("UPDATE sender_bucket SET next_slot = to_timestamp(\(theoretical)) WHERE identity = \(key)")
        }
        return (result, serverNow)
    }
}
