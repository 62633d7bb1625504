import HeraldCore

/// A message claimed for sending: marked `sending` in a committed transaction,
/// its cost reserved in the ledger.
public struct ClaimedMessage: Sendable {
    public let row: Int
    public let destination: UInt64
    public let body: String
    /// Provider answers already counted for this row.
    public let attempts: Int
    public let parts: Int
    /// Cost reserved for it (nano-dollars) and the month it was reserved in.
    public let cost: Int64
    public let month: Int
    /// Not sent before this instant: its slot in a rate shared through the journal.
    public var due: ContinuousClock.Instant?
    /// Where the number is (the report counts per country).
    public let region: String?
    /// The epoch of the lease it was claimed under, where leases can be taken over
    /// (PostgreSQL: the lease row's id); its outcome carries it (`Fencing`).
    public let epoch: Int64?
    /// What its claim reserved: `cost`, or nothing for a free resend (`EarlierSpend`).
    public let reserved: Int64
    /// The provider it goes through: its index in the campaign's `providers:` list.
    public let route: Int
    /// Whether an earlier request of it may have got through (a lost answer, a crash while it
    /// was out): such a row never moves to another provider (`FailoverRule`).
    public let doubted: Bool
    /// The identity of its route's sender pool it goes from (an index into the pool), nil
    /// when the route has no pool.
    public let sender: Int?
    /// Whether the claim holds a reservation (a month): false only for a free resend.
    public var holdsReservation: Bool { reserved != 0 || cost == 0 }

    public init(row: Int, destination: UInt64, body: String, attempts: Int, parts: Int, cost: Int64, month: Int,
                due: ContinuousClock.Instant? = nil, region: String? = nil, epoch: Int64? = nil, reserved: Int64? = nil,
                route: Int = 0, doubted: Bool = false, sender: Int? = nil) {
        self.sender = sender
        self.reserved = reserved ?? cost
        self.route = route
        self.doubted = doubted
        self.region = region
        self.epoch = epoch
        self.row = row
        self.destination = destination
        self.body = body
        self.attempts = attempts
        self.parts = parts
        self.cost = cost
        self.month = month
        self.due = due
    }
}

/// What became of one claimed message.
public struct Settlement: Sendable {
    public var row: Int
    public var state: MessageState
    public var reason: Reason?
    public var detail: String?
    public var providerRef: String?
    /// For `retry`: not sent again before this time (ms since 1970).
    public var notBefore: Int64?
    /// Whether this answer counts as an attempt (throttling does not).
    public var countsAttempt: Bool
    /// The row's cost (the report counts it) and the reservation to settle, with its
    /// month: copied from the claim.
    public var cost: Int64 = 0
    /// Nil outside a claim: the cost.
    public var reserved: Int64?
    public var month: Int = 0
    /// The claim's region, for the report's counters.
    public var region: String?
    /// The epoch the claim was made under.
    public var epoch: Int64?
    /// Set when the row moves to another provider (failover): it goes back `retry`, due now,
    /// with the new provider's parts and cost.
    public var move: RouteMove?

    public init(row: Int, state: MessageState, reason: Reason? = nil, detail: String? = nil,
                providerRef: String? = nil, notBefore: Int64? = nil, countsAttempt: Bool = true) {
        self.row = row
        self.state = state
        self.reason = reason
        self.detail = detail
        // An empty reference (the simulator's: its receipts name the row) is not stored.
        self.providerRef = providerRef?.isEmpty == true ? nil : providerRef
        self.notBefore = notBefore
        self.countsAttempt = countsAttempt
    }

    /// The same outcome, carrying the claim's reservation.
    public func settling(_ claim: ClaimedMessage) -> Settlement {
        var copy = self
        copy.cost = claim.cost
        copy.reserved = claim.reserved
        copy.month = claim.month
        copy.region = claim.region
        copy.epoch = claim.epoch
        return copy
    }
}

/// A cursor over a campaign's pending rows, kept by the sender between steps.
public struct ClaimCursor: Sendable {
    /// Pending rows are looked for after this line; nil until the first step reads
    /// where the journal says they start.
    public var afterRow: Int?
    public var pendingExhausted = false
    public init() {}
}

/// Decides whether a row may be sent now given its time zone(s): nil when its send
/// window is open, else when it opens (ms since 1970). Called on the journal's thread.
public typealias SendGate = (_ timeZones: String?, _ now: Int64) -> Int64?

/// What one step claimed, and whether the budget stopped it from claiming more.
public struct StepResult: Sendable {
    public var claimed: [ClaimedMessage] = []
    /// Set when the next message would pass this limit.
    public var exhausted: BudgetLimitKind?
    /// Rows skipped in this step because they cost more than MaxPrice.
    public var overMaxPrice = 0
    /// Rows skipped in this step because their number is on the suppression list.
    public var suppressed = 0
    /// Rows skipped in this step because their recipient reached the frequency cap.
    public var capped = 0
    /// Rows put off until their send window opens.
    public var deferred = 0
    /// A pause or cancel request from another process.
    public var control: CampaignControl?

    public init() {}
}

/// Rows not yet sent that share their recipients' time zones and when they may go: waiting
/// rows (a retry, a closed send window, a full sender pool) by the minute they fall due, and
/// pending rows, which may go now. The progress line's ETA sends each group from its minute,
/// inside its zones' window.
public struct RemainingRows: Sendable, Hashable {
    /// The time zones of their numbers (`message.tz`), nil when unknown.
    public let zones: String?
    /// When the earliest of them falls due (milliseconds since the epoch); nil for pending rows.
    public let due: Int64?
    public let rows: Int

    public init(zones: String?, due: Int64?, rows: Int) {
        self.zones = zones
        self.due = due
        self.rows = max(0, rows)
    }

    /// In the order a sender takes them: waiting rows by when they fall due, then pending rows
    /// in file order (`first`: each group's first line).
    public static func ordered(waiting: [RemainingRows], pending: [(group: RemainingRows, first: Int)]) -> [RemainingRows] {
        waiting.sorted { ($0.due ?? 0) < ($1.due ?? 0) } + pending.sorted { $0.first < $1.first }.map(\.group)
    }
}
