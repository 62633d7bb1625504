import HeraldCore

/// What a campaign is sent from: identity of its inputs, checked on every start.
public struct CampaignInputs: Sendable {
    public var id: String
    /// Real sends, a simulation or a dry run: each keeps its own progress.
    public var mode: RunMode
    public var campaignPath: String
    public var templateSHA: String
    public var recipientsSHA: String
    public var channel: Channel
    /// Campaigns share a monthly ledger only within one scope.
    public var ledgerScope: LedgerScope
    public var limits: BudgetLimits
    /// Who takes the lease: a foreground run or a worker.
    public var sender: Sender
    /// The provider dedupes by idempotency key: on a shared journal, the rows of a sender
    /// that died are sent again rather than left in doubt.
    public var providerDedupes = false
    /// The names in the campaign's `providers:` list, in order (empty for one provider).
    public var routes: [String] = []

    public init(id: String, mode: RunMode = .real, campaignPath: String, templateSHA: String, recipientsSHA: String,
                channel: Channel, ledgerScope: LedgerScope = .real, limits: BudgetLimits = BudgetLimits(),
                sender: Sender = .run) {
        self.id = id
        self.mode = mode
        self.campaignPath = campaignPath
        self.templateSHA = templateSHA
        self.recipientsSHA = recipientsSHA
        self.channel = channel
        self.ledgerScope = ledgerScope
        self.limits = limits
        self.sender = sender
    }
}

/// A campaign as the journal holds it.
public struct CampaignRecord: Sendable {
    public let cid: Int64
    public let id: String
    public let mode: RunMode
    public let campaignPath: String
    public let templateSHA: String
    public let recipientsSHA: String
    public let channel: Channel
    public let state: CampaignState
    public let totalRows: Int
    public let createdAt: Int64
    public let updatedAt: Int64
    public let leasePID: Int?
    public let leaseHost: String?
    public let leaseHeartbeat: Int64?
    public let ledgerScope: LedgerScope
    public let limits: BudgetLimits
    public let stopReason: String?
    public let control: CampaignControl?
    public let scheduledAt: Int64?
    public let sender: Sender
    public let stopKind: StopKind?
    /// When `herald purge` removed its numbers and bodies (ms since 1970).
    public let purgedAt: Int64?

    public init(cid: Int64, id: String, mode: RunMode, campaignPath: String, templateSHA: String, recipientsSHA: String,
                channel: Channel, state: CampaignState, totalRows: Int, createdAt: Int64, updatedAt: Int64, leasePID: Int?,
                leaseHost: String?, leaseHeartbeat: Int64?, ledgerScope: LedgerScope, limits: BudgetLimits, stopReason: String?,
                control: CampaignControl?, scheduledAt: Int64?, sender: Sender, stopKind: StopKind?, purgedAt: Int64?) {
        self.cid = cid
        self.id = id
        self.mode = mode
        self.campaignPath = campaignPath
        self.templateSHA = templateSHA
        self.recipientsSHA = recipientsSHA
        self.channel = channel
        self.state = state
        self.totalRows = totalRows
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.leasePID = leasePID
        self.leaseHost = leaseHost
        self.leaseHeartbeat = leaseHeartbeat
        self.ledgerScope = ledgerScope
        self.limits = limits
        self.stopReason = stopReason
        self.control = control
        self.scheduledAt = scheduledAt
        self.sender = sender
        self.stopKind = stopKind
        self.purgedAt = purgedAt
    }

    /// The campaign as commands name it: `welcome`, `welcome@simulation`.
    public var name: String { CampaignKey(id: id, mode: mode).description }
}

/// The outcome of taking a campaign's lease.
public enum CampaignOpening: Sendable {
    /// New, or an import that never finished: rows must be imported (none are there).
    case needsImport(cid: Int64)
    /// Imported; `recoveredInDoubt` rows were `sending` under a process that died.
    case ready(cid: Int64, recoveredInDoubt: Int)

    public var cid: Int64 {
        switch self {
        case .needsImport(let cid), .ready(let cid, _): cid
        }
    }
}
