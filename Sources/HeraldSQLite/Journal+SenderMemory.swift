import HeraldCore
import HeraldJournal

/// Sticky sender across campaigns (`SenderMemory`): the identity each recipient was last sent
/// from, per provider, read for each candidate of a pool and written for each claim that changed it.
extension Journal {
    /// The identity keys remembered for `destination`, one per provider.
    func remembered(_ destination: UInt64) throws -> [String] {
        let select = try db.statement("SELECT identity FROM sender_memory WHERE dest = ?1")
        select.bind(1, Int64(bitPattern: destination))
        defer { select.reset() }
        var keys: [String] = []
        while try select.step() { if let key = SenderMemory.checked(select.string(0)) { keys.append(key) } }
        return keys
    }

    public func rememberedSenders(identities: [String], among numbers: [UInt64]?) throws(JournalError) -> SenderRecall {
        try read {
            var recall = SenderRecall(identities: identities)
            guard !recall.identities.isEmpty else { return recall }
            // Each identity named by its index (no text per row); one pass, or one seek a number.
            let count = recall.identities.count
            let cases = (0..<count).map { "WHEN ?\($0 + 1) THEN \($0)" }.joined(separator: " ")
            let filter = numbers == nil ? "" : " WHERE dest = ?\(count + 1)"
            let select = try db.statement(
                "SELECT dest, k FROM (SELECT dest, CASE identity \(cases) END AS k FROM sender_memory\(filter)) WHERE k IS NOT NULL")
            defer { select.reset() }
            // A reset clears the bindings: the identities are bound again for each number.
            func take(_ number: UInt64?) throws {
                for (index, key) in recall.identities.enumerated() { select.bind(Int32(index + 1), key) }
                if let number { select.bind(Int32(count + 1), Int64(bitPattern: number)) }
                while try select.step() { recall.add(UInt64(bitPattern: select.int64(0)), select.int(1)) }
                select.reset()
            }
            guard let numbers else {
                try take(nil)
                return recall
            }
            for number in Set(numbers) { try take(number) }
            return recall
        }
    }

    /// Records the claims' identities, as of `time`, for campaign `cid` (its purge removes them).
    func remember(_ memories: [SenderMemory], cid: Int64, time: Int64) throws {
        guard !memories.isEmpty else { return }
        let write = try db.statement(
            """
            INSERT INTO sender_memory (dest, provider, identity, cid, at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (dest, provider) DO UPDATE SET identity = excluded.identity, cid = excluded.cid, at = excluded.at
            """)
        for memory in SenderMemory.latest(memories) {
            write.bind(1, Int64(bitPattern: memory.destination)).bind(2, memory.provider).bind(3, memory.identity)
                .bind(4, cid).bind(5, time)
            try write.run()
        }
    }
}
