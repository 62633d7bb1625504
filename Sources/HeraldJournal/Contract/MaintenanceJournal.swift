/// What `herald doctor` asks of a journal: its counters checked against its rows (a full
/// scan of one campaign), and rebuilt from them.
public protocol MaintenanceJournal: CampaignJournal {
    /// Every counter that disagrees with the rows; empty when all agree.
    func checkCounters(cid: Int64) throws(JournalError) -> [CounterDrift]
    /// Rebuilds the counters from the rows, safe while senders run.
    func repairCounters(cid: Int64) throws(JournalError)
}
