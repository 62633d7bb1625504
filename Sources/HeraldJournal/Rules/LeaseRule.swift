import HeraldCore

/// How long a sender may go on sending on the strength of its lease, by its own monotonic
/// clock. A lease is renewed by a heartbeat (or a step) that commits; the journal lets
/// others take it over `timeout` after that heartbeat's write, by the journal's clock. The
/// sender counts from the moment it *started* the heartbeat, which is earlier than the
/// write, and stops `margin` short of the timeout. The margin covers what separates the
/// sender's check from its request reaching the provider, and the two clocks' drift: a
/// scheduling delay, a short pause. What remains is a freeze longer than the margin that
/// falls exactly between the check and the request leaving; only a provider that checks an
/// idempotency key or a fencing token closes that.
public struct LeaseTerm: Sendable, Equatable {
    public let timeout: Duration
    public let margin: Duration
    /// Requests may start before this instant; nil until the first renewal.
    public private(set) var validUntil: ContinuousClock.Instant?

    public init(timeout: Duration) {
        self.timeout = timeout
        margin = Self.margin(for: timeout)
    }

    /// A tenth of the timeout, at least 100 ms and at most 5 s: 0.5 s for a 5 s lease, 3 s
    /// for 30 s. A check and the request it allows are milliseconds apart, and two clocks
    /// drift apart by microseconds a second; the rest of the margin is for pauses.
    public static func margin(for timeout: Duration) -> Duration {
        min(max(timeout / 10, .milliseconds(100)), .seconds(5))
    }

    /// A heartbeat or step that started at `started` committed while the lease was held.
    public mutating func renewed(startedAt started: ContinuousClock.Instant) {
        let until = started + timeout - margin
        validUntil = max(validUntil ?? until, until)
    }

    /// The journal said the lease is gone: nothing more is sent on it.
    public mutating func lost() { validUntil = nil }

    /// Whether a request may start at `now`.
    public func allowsRequest(at now: ContinuousClock.Instant) -> Bool {
        guard let validUntil else { return false }
        return now < validUntil
    }
}

/// Fencing: every lease has an epoch, strictly increasing (PostgreSQL: the lease row's
/// id; SQLite: one lease per campaign at a time, its token checked in the same transaction).
/// A claim records the epoch it was made under, and so does each outcome. Who may record
/// what follows from the row's state and epoch when the outcome arrives.
public enum Fencing {
    public enum Verdict: Sendable, Equatable {
        /// The row is still this claim's: the settlement rule applies.
        case settle
        /// The claim was lost (its lease expired and the row was taken over), but the
        /// provider accepted the request: that is evidence the message went, as a receipt
        /// would be. The row becomes `sent`, its reservation spent.
        case acceptLate
        /// Nothing: a newer claim holds the row, or it is settled, or the outcome proves
        /// nothing about a row this sender no longer holds.
        case ignore
    }

    /// What an outcome (`outcome`, from a claim made under `epoch`) may do to a row now in
    /// `state`, last claimed under `rowEpoch`.
    public static func verdict(outcome: MessageState, epoch: Int64, rowState: MessageState, rowEpoch: Int64?) -> Verdict {
        switch rowState {
        // Held by a claim: only that claim's outcome counts; a newer one's request settles it.
        case .sending: return rowEpoch == epoch ? .settle : .ignore
        // Held by nobody and not settled: taken over while the request was out (in doubt),
        // or due again (a provider that dedupes, a resend asked for, a resend handed back
        // unsent). Only an accepted answer says anything about it, and it says the message
        // went, whichever claim made the request: like a receipt, it settles the row.
        case .inDoubt, .retry: return outcome == .sent ? .acceptLate : .ignore
        case .pending, .sent, .failed, .skipped: return .ignore
        }
    }
}

extension Fencing {
    /// What a store knows of a row an outcome no longer holds.
    public struct RowFacts: Sendable, Equatable {
        public var state: MessageState
        public var reason: String?
        /// The epoch of the row's last claim, kept when a takeover put it in doubt.
        public var epoch: Int64?
        /// The month its cost is still reserved in, if it is.
        public var spendMonth: Int?
        public var cost: Int64
        public var region: String?
        public var updatedAt: Int64
        /// Whether the takeover counted its earlier attempt as spent (`EarlierSpend`).
        public var earlierSpent: Bool

        public init(state: MessageState, reason: String?, epoch: Int64?, spendMonth: Int?, cost: Int64, region: String?,
                    updatedAt: Int64, earlierSpent: Bool = false) {
            self.earlierSpent = earlierSpent
            self.state = state
            self.reason = reason
            self.epoch = epoch
            self.spendMonth = spendMonth
            self.cost = cost
            self.region = region
            self.updatedAt = updatedAt
        }
    }

    public static let lateDetail = "accepted: the provider's answer came after its sender's lease had expired"

    /// The change an outcome from a lost claim (made under `epoch`) still makes, recorded at
    /// `time`; nil when it makes none. An accepted answer settles the row as `sent` (its
    /// reservation spent; nothing more when the takeover counted it as spent). A row the sender
    /// gave back unsent (it never made the request: its lease check failed, or it stopped)
    /// is provably not delivered: from `in_doubt` it goes back to `pending`, its
    /// reservation released.
    public static func lateChange(_ outcome: Settlement, epoch: Int64, row facts: RowFacts, time: Int64) -> RowChange? {
        let from = TallyKey(facts.state, code: facts.reason)
        switch verdict(outcome: outcome.state, epoch: epoch, rowState: facts.state, rowEpoch: facts.epoch) {
        case .settle, .ignore:
            if outcome.state == .pending, !outcome.countsAttempt, facts.state == .inDoubt, facts.epoch == epoch {
                return RowChange(
                    row: outcome.row, state: .pending, reason: nil, detail: nil, providerRef: nil, notBefore: nil, attempts: 0,
                    doubt: nil, keepsReservation: false, from: from, to: TallyKey(.pending),
                    ledger: facts.spendMonth.flatMap { facts.cost == 0 ? nil : LedgerDelta(month: $0, reserved: -facts.cost, spent: 0) },
                    suppression: nil, report: nil)
            }
            return nil
        case .acceptLate:
            let reserved = facts.state == .inDoubt ? facts.spendMonth : nil
            // Counted when the takeover made it due again: nothing more to spend.
            let ledger = facts.cost == 0 || (reserved == nil && facts.earlierSpent) ? nil
                : LedgerDelta(month: reserved ?? BillingMonth.of(milliseconds: time), reserved: reserved == nil ? 0 : -facts.cost,
                              spent: facts.cost)
            return RowChange(
                row: outcome.row, state: .sent, reason: nil, detail: lateDetail, providerRef: outcome.providerRef, notBefore: nil,
                attempts: 1, doubt: nil, keepsReservation: true, from: from, to: TallyKey(.sent), ledger: ledger, suppression: nil,
                report: ReportMove(region: facts.region, cost: facts.cost, from: facts.state, at: facts.updatedAt, to: .sent, at: time))
        }
    }
}
