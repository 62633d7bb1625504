import HeraldJournal

extension PostgresJournal {
    public func shareDemotions(cid: Int64, _ demotions: [SharedDemotion]) throws(JournalError) {
        guard !demotions.isEmpty else { return }
        try attempt {
            try session.transaction {
                // The campaign's row locked: two senders demoting at once both keep theirs.
                let stored = try session.query("SELECT demotions FROM campaign WHERE cid = \(cid) FOR UPDATE").first?.cells.string(0)
                let merged = SharedDemotionRule.merged(SharedDemotionRule.decode(stored), adding: demotions, at: currentTime())
                try session.query("UPDATE campaign SET demotions = \(SharedDemotionRule.encode(merged)) WHERE cid = \(cid)")
            }
        }
    }

    public func sharedDemotions(cid: Int64) throws(JournalError) -> [SharedDemotion] {
        try attempt {
            let stored = try session.query("SELECT demotions FROM campaign WHERE cid = \(cid)").first?.cells.string(0)
            let time = currentTime()
            return SharedDemotionRule.decode(stored).filter { $0.until > time }
        }
    }
}
