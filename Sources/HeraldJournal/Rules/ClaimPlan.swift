import HeraldCore

/// A row a store offers for claiming, with where its counter is.
public struct ClaimCandidate: Sendable {
    public let row: Int
    public let destination: UInt64
    public let body: String
    public let attempts: Int
    public let parts: Int
    public let cost: Int64
    public let timeZones: String?
    /// `pending`, or `retry` with its reason.
    public let from: TallyKey
    /// Where the number is (the report counts per country).
    public let region: String?
    /// What claiming it reserves: its cost, or nothing for a free resend (`EarlierSpend`).
    public let reservation: Int64
    /// The provider it goes through (`RouteRule`, recorded at import).
    public let route: Int
    /// Whether an earlier request of it may have got through (its `doubt` is set).
    public let doubted: Bool
    /// The identity of its route's sender pool it was last claimed for (`SenderChoice`).
    public let sender: Int?

    public init(row: Int, destination: UInt64, body: String, attempts: Int, parts: Int, cost: Int64, timeZones: String?,
                from: TallyKey, region: String? = nil, earlierSpent: Int64? = nil, route: Int = 0, doubted: Bool = false,
                sender: Int? = nil) {
        self.sender = sender
        self.region = region
        self.route = route
        // A free resend is one whose earlier request may have been delivered.
        self.doubted = doubted || earlierSpent != nil
        reservation = EarlierSpend.reservation(cost: cost, mark: earlierSpent)
        self.row = row
        self.destination = destination
        self.body = body
        self.attempts = attempts
        self.parts = parts
        self.cost = cost
        self.timeZones = timeZones
        self.from = from
    }

    public func claimed(month: Int, due: ContinuousClock.Instant? = nil, epoch: Int64? = nil, sender: Int? = nil) -> ClaimedMessage {
        ClaimedMessage(row: row, destination: destination, body: body, attempts: attempts, parts: parts, cost: cost,
                       month: month, due: due, region: region, epoch: epoch, reserved: reservation, route: route,
                       doubted: doubted, sender: sender ?? self.sender)
    }
}

/// The claim rule, as a value a store feeds candidates to, in its order (due retries,
/// then pending rows in file order). Each candidate is, in this order: skipped when its
/// number is suppressed, skipped when its recipient reached the frequency cap, deferred
/// to when its send window opens, skipped when it costs more than MaxPrice, claimed
/// when the campaign and monthly limits admit it, or it ends the claim (exhausted) of
/// everything but free resends among the due retries (`offersPastStop`).
/// The store marks the rows it is told to claim as it goes (it keeps them: the plan
/// counts them) and applies the skips and deferrals the plan holds, in one transaction.
public struct ClaimPlan {
    public enum Verdict: Sendable, Equatable {
        case claim
        case skip(Reason)
        case deferUntil(Int64)
        /// The budget admits nothing more: claiming stops here.
        case stop(BudgetLimitKind)
    }

    /// A row skipped at claim time, with the counter it leaves.
    public struct Skip: Sendable, Equatable {
        public let row: Int
        public let from: TallyKey
        public let reason: Reason
        public let detail: String
    }

    /// A row that waits (`retry`) until `opens`: its window is closed (reason `window`), or
    /// every identity of its sender pool reached its daily cap (`sender_cap`).
    public struct Deferral: Sendable, Equatable {
        public let row: Int
        public let from: TallyKey
        public let opens: Int64
        public let reason: Reason

        public init(row: Int, from: TallyKey, opens: Int64, reason: Reason = .window) {
            self.row = row
            self.from = from
            self.opens = opens
            self.reason = reason
        }
    }

    public let time: Int64
    /// The billing month the claims reserve in.
    public let month: Int
    private let limits: BudgetLimits?
    private let gate: SendGate?
    private var campaignSpent: Int64
    private var monthSpent: Int64
    /// What was reserved for the claimed rows.
    public private(set) var reserved: Int64 = 0
    public private(set) var exhausted: BudgetLimitKind?
    /// Rows claimed so far.
    public private(set) var claimedCount = 0
    public private(set) var skipped: [Skip] = []
    public private(set) var deferred: [Deferral] = []
    /// Counter moves of skips and deferrals; claims are counted in runs (`claimRun`),
    /// which keeps the per-row cost of a long run of claims to a comparison.
    private var moves = TallyChanges()
    private var claimRun: (from: TallyKey, count: Int)?
    /// What the skips so far take from the report's counters (their cost leaves the estimate).
    public private(set) var report = ReportCounters()
    /// Counter moves for every decision so far.
    public var tally: TallyChanges {
        var all = moves
        if let claimRun { all.move(from: claimRun.from, to: TallyKey(.sending), claimRun.count) }
        return all
    }
    public private(set) var counts = Counts()
    /// The routes' sender pools and today's use of their identities (`usePools`).
    private var pools: SenderScopes?
    public private(set) var senderChoice: SenderChoice?
    private var poolCountsParts = true
    /// The identity chosen for each claimed row of a route with a pool, by row: the store
    /// records it on the row, and the claimed message carries it.
    public private(set) var senders: [Int: Int] = [:]
    /// The identity keys remembered for the numbers offered (`SenderMemory`), as a store read them.
    private var remembered: [UInt64: [String]] = [:]
    /// Whether claims are remembered (real sends only).
    private var remembers = false
    /// What the claims so far change in the journal's sender memory: the store writes it.
    public private(set) var remembering: [SenderMemory] = []

    public struct Counts: Sendable, Equatable {
        public var overMaxPrice = 0
        public var suppressed = 0
        public var capped = 0
        public var deferred = 0
    }

    /// `campaignSpent` and `monthSpent` (reserved plus spent) matter only with limits.
    public init(budget: BudgetContext?, campaignSpent: Int64 = 0, monthSpent: Int64 = 0, time: Int64, gate: SendGate? = nil) {
        self.time = time
        month = BillingMonth.of(milliseconds: time)
        limits = budget.flatMap { $0.limits.isEmpty ? nil : $0.limits }
        self.gate = gate
        self.campaignSpent = campaignSpent
        self.monthSpent = monthSpent
    }

    /// Sends rows of routes with a pool from one of its identities (`SenderChoice`), `used`
    /// being each capped identity's units so far today, read from the journal.
    /// `remembers`: the claims are real sends, whose identities the journal remembers.
    public mutating func usePools(_ scopes: SenderScopes, used: [String: Int], countsParts: Bool, remembers: Bool = false) {
        guard scopes.hasPools else { return }
        pools = scopes
        senderChoice = SenderChoice(time: time, used: used)
        poolCountsParts = countsParts
        self.remembers = remembers
    }

    /// Whether a candidate goes from a pool, so the store reads what is remembered for its number.
    public func choosesSender(_ candidate: ClaimCandidate) -> Bool { pools?.pool(route: candidate.route) != nil }

    /// What the journal remembers for `destination` (identity keys, `SenderMemory.checked`), read
    /// by the store before the candidate is considered.
    public mutating func recall(_ destination: UInt64, _ keys: [String]) {
        remembered[destination] = keys
    }

    /// Whether a store goes on offering candidates like this one after the budget stopped
    /// the claim. Due retries: yes, as a free resend among them is admitted whatever the
    /// budget says (a costly retry due earlier must not strand it; seed 10503). Pending rows:
    /// no, they are read in file order by a cursor that must not pass a row the budget refused.
    public static func offersPastStop(_ candidate: ClaimCandidate) -> Bool { candidate.from.state == .retry }

    /// Whether the budget needs the spend so far: a store reads it only then.
    public static func needsSpend(_ budget: BudgetContext?) -> Bool { budget.map { !$0.limits.isEmpty } ?? false }

    /// Decides one candidate and records the decision. `capped` is asked only when the
    /// number is not suppressed.
    @discardableResult
    public mutating func consider(_ candidate: ClaimCandidate, suppressed: Bool,
                                  capped: @autoclosure () throws -> Bool) rethrows -> Verdict {
        if suppressed {
            skip(candidate, .suppressed, "the number is on the suppression list")
            counts.suppressed += 1
            return .skip(.suppressed)
        }
        if try capped() {
            skip(candidate, .frequencyCap, "the recipient reached the frequency cap")
            counts.capped += 1
            return .skip(.frequencyCap)
        }
        if let gate, let opens = gate(candidate.timeZones, time) { return deferral(candidate, until: opens, .window) }
        var identity: (pool: SenderPool, index: Int)?
        if let pool = pools?.pool(route: candidate.route), let choice = senderChoice {
            guard let index = choice.choose(pool, destination: candidate.destination, region: candidate.region,
                                            units: units(candidate), recorded: candidate.sender, doubted: candidate.doubted,
                                            remembered: remembered[candidate.destination] ?? [])
            else { return deferral(candidate, until: choice.nextDay, .senderCap) }
            identity = (pool, index)
        }
        // A free resend is inside every limit already: its cost was counted when it was made
        // due again. Past a stop, nothing else is admitted, however cheap.
        let free = candidate.reservation == 0 && candidate.cost != 0
        if !free, let exhausted { return .stop(exhausted) }
        let decision = free ? .admit : limits.map {
            $0.decide(cost: Money(nanos: candidate.cost), campaignSpent: Money(nanos: campaignSpent),
                      monthSpent: Money(nanos: monthSpent))
        } ?? .admit
        switch decision {
        case .admit:
            campaignSpent += candidate.reservation
            monthSpent += candidate.reservation
            reserved += candidate.reservation
            claimedCount += 1
            if let identity {
                let units = units(candidate)
                let chosen = identity.pool.identities[identity.index]
                senderChoice?.take(chosen, units: units)
                senders[candidate.row] = identity.index
                if remembers, !(remembered[candidate.destination] ?? []).contains(chosen.key) {
                    remembering.append(SenderMemory(destination: candidate.destination, provider: chosen.provider, identity: chosen.key))
                    // Two rows of one number in a step: the second sees the first's choice.
                    remembered[candidate.destination, default: []].removeAll { $0.hasPrefix(chosen.provider + ":") }
                    remembered[candidate.destination, default: []].append(chosen.key)
                }
            }
            if let run = claimRun, run.from == candidate.from {
                claimRun = (run.from, run.count + 1)
            } else {
                if let run = claimRun { moves.move(from: run.from, to: TallyKey(.sending), run.count) }
                claimRun = (candidate.from, 1)
            }
            return .claim
        case .overMaxPrice:
            skip(candidate, .maxPrice, "costs \(Self.dollars(candidate.cost)) USD, more than max_price")
            counts.overMaxPrice += 1
            return .skip(.maxPrice)
        case .exhausted(let kind):
            exhausted = kind
            return .stop(kind)
        }
    }

    /// Decides one candidate of a campaign without a frequency cap.
    @discardableResult
    public mutating func consider(_ candidate: ClaimCandidate, suppressed: Bool) -> Verdict {
        consider(candidate, suppressed: suppressed, capped: false)
    }

    private mutating func deferral(_ candidate: ClaimCandidate, until opens: Int64, _ reason: Reason) -> Verdict {
        deferred.append(Deferral(row: candidate.row, from: candidate.from, opens: opens, reason: reason))
        moves.move(from: candidate.from, to: TallyKey(.retry, reason))
        counts.deferred += 1
        return .deferUntil(opens)
    }

    /// What a row counts against its identity's rate and cap: SMS parts, else one.
    private func units(_ candidate: ClaimCandidate) -> Int { poolCountsParts ? max(1, candidate.parts) : 1 }

    private mutating func skip(_ candidate: ClaimCandidate, _ reason: Reason, _ detail: String) {
        skipped.append(Skip(row: candidate.row, from: candidate.from, reason: reason, detail: detail))
        moves.move(from: candidate.from, to: TallyKey(.skipped, reason))
        report.move(region: candidate.region, cost: candidate.cost, from: candidate.from.state, at: time, to: .skipped, at: time)
    }

    /// Hands over the skips and deferrals decided since the last call, for a store that
    /// applies them phase by phase.
    public mutating func takeSkipsAndDeferrals() -> (skipped: [Skip], deferred: [Deferral]) {
        defer {
            skipped = []
            deferred = []
        }
        return (skipped, deferred)
    }

    /// The step's result fields this plan decides.
    public func record(into result: inout StepResult) {
        result.exhausted = exhausted ?? result.exhausted
        result.overMaxPrice += counts.overMaxPrice
        result.suppressed += counts.suppressed
        result.capped += counts.capped
        result.deferred += counts.deferred
    }

    /// Nano-dollars as dollars with nine decimals (`0.060000000`).
    static func dollars(_ nanos: Int64) -> String {
        let magnitude = nanos.magnitude
        let fraction = String(magnitude % 1_000_000_000)
        return (nanos < 0 ? "-" : "") + "\(magnitude / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}

/// What the rules do to rows in bulk: a store applies each with one set-based statement.
public enum BulkRule {
    /// Rows still `sending` whose sender is gone. With a provider that dedupes by
    /// idempotency key they are sent again (retry now); their reservation is counted as
    /// spent, since the first request may have been delivered, and the resend is free
    /// (`EarlierSpend.resendIsFree`). Otherwise they may have been delivered and become
    /// `in_doubt` (`interrupted`), reservation kept.
    public struct Interruption: Sendable, Equatable {
        public enum Cause: Sendable { case processDied, leaseExpired }
        public let resend: Bool
        public let cause: Cause

        public init(resend: Bool, cause: Cause) {
            self.resend = resend
            self.cause = cause
        }

        public var state: MessageState { resend ? .retry : .inDoubt }
        public var reason: Reason { .interrupted }
        /// The row remembers why it was in doubt, so later failures that prove nothing keep it.
        public var doubt: Reason { .interrupted }
        public var notBefore: Int64? { resend ? 0 : nil }
        public var keepsReservation: Bool { !resend }
        public var detail: String {
            switch cause {
            case .processDied: "was being sent when its process stopped without recording the answer"
            case .leaseExpired: "was being sent when its process stopped heartbeating without recording the answer"
            }
        }
        public func move(_ count: Int) -> TallyChanges {
            var tally = TallyChanges()
            tally.move(from: TallyKey(.sending), to: TallyKey(state, reason), count)
            return tally
        }
        /// For each interrupted row's reservation.
        public func ledger(cost: Int64, month: Int?) -> LedgerDelta? {
            guard resend, let month, cost != 0 else { return nil }
            return LedgerDelta(month: month, reserved: -cost, spent: cost)
        }
        /// What a resent row with a reservation records in `earlier_spent`; nil keeps the column.
        public var earlierSpent: Int64? { resend ? EarlierSpend.resendIsFree : nil }
    }

    /// `resume --resend-in-doubt`: in-doubt rows are due again (retry, now), keeping their
    /// reason. Their reservation is counted as spent, since the first request may have been
    /// delivered: where the provider dedupes, the resend is then free (a second request with
    /// the same key is not billed again); otherwise the resend reserves and is billed again.
    /// Releasing it instead under-counted: a row delivered the first time and not resent
    /// (the budget stopped the run first) was billed by the provider and never counted.
    public struct ResendInDoubt: Sendable, Equatable {
        public let providerDedupes: Bool

        public init(providerDedupes: Bool) { self.providerDedupes = providerDedupes }

        public var state: MessageState { .retry }
        public var notBefore: Int64 { 0 }
        public func move(reason: String?, _ count: Int) -> TallyChanges {
            var tally = TallyChanges()
            tally.move(from: TallyKey(.inDoubt, code: reason), to: TallyKey(.retry, code: reason), count)
            return tally
        }
        public func ledger(cost: Int64, month: Int?) -> LedgerDelta? {
            guard let month, cost != 0 else { return nil }
            return LedgerDelta(month: month, reserved: -cost, spent: cost)
        }
        /// The value `earlier_spent` takes for every row that held a reservation: its earlier
        /// attempt is counted, so a receipt for that attempt spends nothing more.
        public var earlierSpent: Int64 { providerDedupes ? EarlierSpend.resendIsFree : EarlierSpend.resendCostsAgain }
    }

    /// `herald cancel`: rows not yet sent (pending, waiting retries) are skipped, `cancelled`.
    /// A waiting row whose earlier attempt may have been delivered (its `doubt` is set: its
    /// sender died, or an answer was lost) is not: it becomes `in_doubt`, its reason that
    /// doubt, so a receipt for the attempt still settles it `sent`. Skipped, such a receipt
    /// counted a delivery for a row the journal said was never sent.
    public enum Cancellation {
        public static let states: [MessageState] = [.pending, .retry]
        public static let state = MessageState.skipped
        public static let reason = Reason.cancelled
        /// Where a waiting row with a doubt goes instead.
        public static let doubtedState = MessageState.inDoubt
        public static func move(from: TallyKey, _ count: Int) -> TallyChanges {
            var tally = TallyChanges()
            tally.move(from: from, to: TallyKey(state, reason), count)
            return tally
        }
        public static func moveDoubted(from: TallyKey, doubt: String, _ count: Int) -> TallyChanges {
            var tally = TallyChanges()
            tally.move(from: from, to: TallyKey(doubtedState, code: doubt), count)
            return tally
        }
        /// The detail of a doubted row, before its doubt and a closing parenthesis (a store appends them).
        public static let doubtedDetailPrefix = "cancelled while due again; an earlier attempt may have been delivered ("
        /// A cancelled campaign's in-doubt rows hold no reservation: nothing sends them again,
        /// and their attempt may have been delivered, so what each reserved is counted spent
        /// (marked `earlierSpentMark`: a receipt for that attempt spends nothing more). Held,
        /// a reservation stayed for ever, in the campaign's spend and its month's.
        public static func spendReservation(cost: Int64, month: Int?) -> LedgerDelta? {
            guard let month, cost != 0 else { return nil }
            return LedgerDelta(month: month, reserved: -cost, spent: cost)
        }
        public static let earlierSpentMark = EarlierSpend.resendIsFree
    }

    /// A row whose number an earlier row of the CSV already has: skipped, `duplicate`,
    /// naming that line. The first valid row of a number is the one sent.
    public enum Duplicate {
        public static let state = MessageState.skipped
        public static let reason = Reason.duplicate
        /// The detail's text before the first line's number (a store appends it).
        public static let detailPrefix = "same number as line "
        public static func detail(firstLine: Int) -> String { detailPrefix + String(firstLine) }
        public static func move(_ count: Int) -> TallyChanges {
            var tally = TallyChanges()
            tally.move(from: TallyKey(.pending), to: TallyKey(state, reason), count)
            return tally
        }
    }

    /// The states a row may be in once a campaign has started sending: anything but
    /// pending and skipped (changed inputs are refused from then on).
    public static let startedStates: [MessageState] = MessageState.allCases.filter { $0 != .pending && $0 != .skipped }
}

/// `message.earlier_spent`: a row made due again whose earlier attempt may have been
/// delivered has that attempt's cost counted as spent, and remembers how its resend is billed.
public enum EarlierSpend {
    /// The provider does not dedupe: the resend is another message, reserved and billed again.
    public static let resendCostsAgain: Int64 = 1
    /// The provider dedupes by idempotency key: the resend is the same message, so claiming
    /// it reserves nothing and sending it spends nothing more (its cost is counted once,
    /// whichever attempt got through).
    public static let resendIsFree: Int64 = 2

    /// What claiming a row of cost `cost` reserves, by its `earlier_spent` mark.
    public static func reservation(cost: Int64, mark: Int64?) -> Int64 { mark == resendIsFree ? 0 : cost }
}
