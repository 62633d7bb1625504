import HeraldJournal

extension Journal {
    public func shareDemotions(cid: Int64, _ demotions: [SharedDemotion]) throws(JournalError) {
        guard !demotions.isEmpty else { return }
        try write {
            let select = try db.statement("SELECT demotions FROM campaign WHERE cid = ?1")
            select.bind(1, cid)
            let stored = try select.step() ? select.string(0) : nil
            select.reset()
            let merged = SharedDemotionRule.merged(SharedDemotionRule.decode(stored), adding: demotions, at: now())
            let update = try db.statement("UPDATE campaign SET demotions = ?2 WHERE cid = ?1")
            update.bind(1, cid).bind(2, SharedDemotionRule.encode(merged))
            try update.run()
        }
    }

    public func sharedDemotions(cid: Int64) throws(JournalError) -> [SharedDemotion] {
        try read {
            let select = try db.statement("SELECT demotions FROM campaign WHERE cid = ?1")
            select.bind(1, cid)
            defer { select.reset() }
            let stored = try select.step() ? select.string(0) : nil
            let time = now()
            return SharedDemotionRule.decode(stored).filter { $0.until > time }
        }
    }
}
