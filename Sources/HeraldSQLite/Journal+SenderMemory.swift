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

    public func rememberedSenders(among numbers: [UInt64]) throws(JournalError) -> [UInt64: [String]] {
        try read {
            var found: [UInt64: [String]] = [:]
            for number in Set(numbers) {
                let keys = try remembered(number)
                if !keys.isEmpty { found[number] = keys }
            }
            return found
        }
    }

    public func rememberedSenders(identities: [String]) throws(JournalError) -> SenderRecall {
        try read {
            var recall = SenderRecall(identities: identities)
            guard !recall.identities.isEmpty else { return recall }
            // One pass, each identity named by its index (no text per row).
            let cases = recall.identities.indices.map { "WHEN ?\($0 + 1) THEN \($0)" }.joined(separator: " ")
            let select = try db.statement(
                "SELECT dest, k FROM (SELECT dest, CASE identity \(cases) END AS k FROM sender_memory) WHERE k IS NOT NULL")
            for (index, key) in recall.identities.enumerated() { select.bind(Int32(index + 1), key) }
            defer { select.reset() }
            while try select.step() { recall.add(UInt64(bitPattern: select.int64(0)), select.int(1)) }
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
