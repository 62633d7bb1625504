import HeraldCore
import HeraldJournal

extension Journal: CampaignJournal {
    public var location: String { path }
    /// One sender per campaign (a lease), its rate paced in memory.
    public var sharesCampaigns: Bool { false }
    public func currentTime() -> Int64 { now() }

    public func step(cid: Int64, owner: LeaseOwner, settle: [Settlement], claim: Int, cursor: inout ClaimCursor,
                     budget: BudgetContext?, gate: SendGate?, sender: SenderScopes, rate: SharedRate?) throws(JournalError) -> StepResult {
        try step(cid: cid, owner: owner, settle: settle, claim: claim, cursor: &cursor, budget: budget, gate: gate, sender: sender)
    }

    public func makeImporter(cid: Int64) throws(JournalError) -> any RowImporter { importWriter(cid: cid) }
}

extension ImportWriter: RowImporter {}

extension Journal: PlanningJournal {}

extension Journal: SuppressionJournal {}

extension Journal: MaintenanceJournal {}

extension Journal: RetentionJournal {}

extension Journal: ReportingJournal {}
extension Journal: ReceiptJournal {}
