import Foundation
import HeraldCore
import HeraldProviders
import HeraldJournal

extension CampaignRunner {
    /// The most the campaign may send a second, what a claim is sized by: its rate, or what
    /// its sender pools allow together when every identity has a rate and that is less.
    static func claimRate(_ spec: CampaignSpec) -> Double? {
        var pooled: Double?
        let pools = spec.routes.map(\.pool)
        if pools.allSatisfy({ $0 != nil }) {
            let rates = pools.flatMap { $0?.identities.map(\.messagesPerSecond) ?? [] }
            if rates.allSatisfy({ $0 != nil }) { pooled = rates.reduce(0) { $0 + ($1 ?? 0) } }
        }
        return CampaignPlan.slower(spec.messagesPerSecond, pooled)
    }

    /// Claims, sends and settles until nothing is left to claim, a stop is
    /// requested or the limit is reached. Returns messages sent and why it stopped early.
    ///
    /// With a provider that dedupes by idempotency key, the next batch is claimed
    /// while the current one is in flight (two batches outstanding). Otherwise one
    /// batch of `max_in_flight` at a time, so a crash leaves as few rows in doubt
    /// as possible.
    func sendLoop(cid: Int64, owner: LeaseOwner, journal: JournalQueue, providers: ProviderSet)
        async throws -> (sent: Int, stop: StopReason?)
    {
        let spec = plan.spec
        let pipelined = providers.dedupes
        let shared = journal.sharesCampaigns
        let batchSize = Self.batchSize(spec, pipelined: pipelined, shared: shared)
        // Renewed by every step and heartbeat that commits; checked before every request.
        let lease = LeaseClock(timeout: journal.leaseTimeout)
        let sharedRate = shared ? spec.messagesPerSecond.map {
            SharedRate(messagesPerSecond: $0, burst: spec.burst, countsParts: plan.template.channel == .sms)
        } : nil
        let dispatcher = makeDispatcher(providers, lease: lease, pipelined: pipelined, shared: shared)
        // RCS rows whose receipts prove them undelivered go as SMS (`sms_fallback:`).
        // Only real sends have receipts: a rehearsal has no RCS failure to act on.
        var fallback = key.mode == .real ? SMSFallback(plan: plan, logger: logger) : nil
        var meter = try await makeMeter(cid: cid, journal: journal)
        var cursor = ClaimCursor()
        var claimedTotal = 0
        var sent = 0
        var stopReason: StopReason?
        /// The budget admits no new row, but the last claim still admitted free resends.
        var exhausted: BudgetLimitKind?
        /// Out of budget, the loop waited for a retry and the claim after admitted nothing.
        var waitedOut = false
        var unsettled: [Settlement] = []

        func claimAllowance() -> Int {
            if stop.requested != nil || stopReason != nil { return 0 }
            guard let limit = options.limit else { return batchSize }
            return max(0, min(batchSize, limit - claimedTotal))
        }
        let budget = BudgetContext(limits: limits, channel: plan.template.channel)
        let sender = spec.senders
        let gate = spec.schedule.window.map { UncheckedBox(WindowGate(window: $0)) }
        func step(claim: Int) async throws -> [ClaimedMessage] {
            let settle = unsettled
            unsettled = []
            let result = try await stepPastSkips(cid: cid, owner: owner, journal: journal, lease: lease, settle: settle, claim: claim,
                                                 cursor: &cursor, budget: budget, gate: gate, sender: sender, rate: sharedRate)
            if let control = result.control, stopReason == nil {
                stopReason = control == .pause ? .paused : .cancelled
            }
            claimedTotal += result.claimed.count
            for _ in 0..<(result.overMaxPrice + result.suppressed + result.capped) { meter.finished(sent: false) }
            if let kind = result.exhausted, stopReason == nil {
                // Admitted rows are still sent. Rows made due again whose cost was counted
                // already (free resends) are admitted whatever the budget says: the run goes on
                // while claims admit any, and stops at the first that admits none.
                exhausted = kind
            }
            return result.claimed
        }
        func absorb(_ results: [Settlement]) {
            for result in results {
                switch result.state {
                case .sent:
                    sent += 1
                    meter.finished(sent: true, cost: result.cost)
                case .failed, .skipped: meter.finished(sent: false)
                default: break
                }
                if result.reason == .spendLimit, stopReason == nil {
                    stopReason = .budget(.provider, result.detail)
                }
                if result.reason == .campaignRefused, stopReason == nil {
                    stopReason = .providerRefused(result.detail ?? "")
                }
            }
            unsettled.append(contentsOf: results)
        }

        // Pause and cancel requests reach a sender mid-batch, and the lease is kept fresh.
        let control = StopSignal()
        let watcher = watch(cid: cid, owner: owner, journal: journal, dispatcher: dispatcher, lease: lease, control: control)
        defer { watcher.cancel() }

        // Providers another sender (or the last run) demoted are left alone from the start.
        if let failover = dispatcher.failover, let shared = try? await journal.run({ try $0.sharedDemotions(cid: cid) }) {
            failover.adopt(shared, at: Int64(Date().timeIntervalSince1970 * 1000))
        }
        // Receipts taken since the last run: rows they prove undelivered are due now.
        _ = try await fallback?.pass(cid: cid, journal: journal)
        var current = try await step(claim: claimAllowance())
        while true {
            if stopReason == nil, let requested = control.requested { stopReason = requested }
            if current.isEmpty {
                if !unsettled.isEmpty {
                    // Outcomes not yet recorded may include retries: record them first.
                    current = try await step(claim: claimAllowance())
                    continue
                }
                if stopReason == nil, let requested = stop.requested { stopReason = requested }
                if stopReason == nil, let limit = options.limit, claimedTotal >= limit { stopReason = .limit }
                if stopReason != nil { break }
                guard let due = try await journal.run({ try $0.nextRetry(cid: cid) }) else {
                    // RCS rows may still fall back to SMS: counted first, then the receipts read, so
                    // a failure recorded before the count is moved now, and the run waits while
                    // final receipts are missing.
                    if exhausted == nil, fallback != nil {
                        let waits = try await fallback?.shouldWait(cid: cid, journal: journal) == true
                        let moved = try await fallback?.pass(cid: cid, journal: journal, every: .zero) ?? 0
                        if moved > 0 { fallback?.resumed() }
                        if moved > 0 || waits {
                            if moved == 0 {
                                meter.waiting()
                                try? await Task.sleep(for: .milliseconds(500))
                            }
                            current = try await step(claim: claimAllowance())
                            continue
                        }
                    }
                    if let kind = exhausted {
                        stopReason = .budget(kind, nil)
                        break
                    }
                    // Rows another sender holds may still come back (its retries, or its
                    // rows after it dies): a shared campaign's sender waits for them.
                    if shared, try await othersHoldRows(cid: cid, journal: journal, meter: &meter) {
                        current = try await step(claim: claimAllowance())
                        continue
                    }
                    break
                }
                // Out of budget: wait once for a retry soon due (a backoff), which may be free; not
                // for a send window hours away, and not again when that wait admitted nothing.
                if let kind = exhausted {
                    if waitedOut || due - Int64(Date().timeIntervalSince1970 * 1000) > 60_000 {
                        stopReason = .budget(kind, nil)
                        break
                    }
                    waitedOut = true
                }
                if let control = try await waitForRetry(due: due, cid: cid, owner: owner, journal: journal, meter: &meter) {
                    stopReason = control == .pause ? .paused : .cancelled
                    continue
                }
                current = try await step(claim: claimAllowance())
                continue
            }
            waitedOut = false
            let batch = current
            let sending = Task { [stop] in await dispatcher.send(batch, haltOn: [stop, control]) }
            var next: [ClaimedMessage] = []
            if pipelined { next = try await step(claim: claimAllowance()) }
            absorb(await sending.value)
            if stopReason == nil, let requested = control.requested { stopReason = requested }
            if stop.requested != nil || stopReason == .limit || stopReason == .paused || stopReason == .cancelled
                || isProviderStop(stopReason)
            {
                // Claimed but never sent: back to pending, safe to send on resume.
                unsettled += next.map { Settlement(row: $0.row, state: .pending, countsAttempt: false).settling($0) }
                next = []
            } else if !pipelined {
                next = try await step(claim: claimAllowance())
            }
            if meter.wantsPlan { try await refreshPlan(cid: cid, journal: journal, meter: &meter) }
            meter.tick()
            _ = try await fallback?.pass(cid: cid, journal: journal)
            current = next
        }
        if !unsettled.isEmpty { _ = try await step(claim: 0) }
        // What this run demoted and the watcher had not written yet: for the next sender.
        if let failover = dispatcher.failover, case let mine = failover.takeUnshared(), !mine.isEmpty {
            _ = try? await journal.run { try $0.shareDemotions(cid: cid, mine) }
        }
        meter.tick(force: true)
        return (sent, stopReason ?? stop.requested ?? exhausted.map { StopReason.budget($0, nil) })
    }

    /// One journal step, settling `settle` and claiming up to `claim`, made again (settling
    /// nothing) while all it found were rows put off or skipped (outside their window, over
    /// MaxPrice, suppressed, capped) and the pending rows still hold someone who may be messaged
    /// now. The claims and skips of all of them; the first pause or cancel seen.
    private func stepPastSkips(cid: Int64, owner: LeaseOwner, journal: JournalQueue, lease: LeaseClock, settle: [Settlement],
                               claim: Int, cursor: inout ClaimCursor, budget: BudgetContext, gate: UncheckedBox<WindowGate>?,
                               sender: SenderScopes, rate: SharedRate?) async throws -> StepResult {
        var settle = settle
        var result = StepResult()
        while true {
            let start = cursor
            let batch = settle
            settle = []
            let (stepped, moved) = try await lease.renewing {
                try await journal.run { journal in
                    var local = start
                    let result = try journal.step(cid: cid, owner: owner, settle: batch, claim: claim, cursor: &local, budget: budget,
                                                  gate: gate?.value.sendGate, sender: sender, rate: rate)
                    return (result, local)
                }
            }
            cursor = moved
            result.control = result.control ?? stepped.control
            result.claimed += stepped.claimed
            result.overMaxPrice += stepped.overMaxPrice
            result.suppressed += stepped.suppressed
            result.capped += stepped.capped
            result.exhausted = stepped.exhausted
            let skippedOnly = stepped.claimed.isEmpty && stepped.deferred + stepped.overMaxPrice + stepped.suppressed + stepped.capped > 0
            guard skippedOnly, stepped.exhausted == nil, !cursor.pendingExhausted, claim > 0 else { return result }
        }
    }

    /// How many rows a step claims: with a provider that dedupes, several batches of
    /// `max_in_flight`; otherwise one, so a crash leaves as few rows in doubt as possible.
    static func batchSize(_ spec: CampaignSpec, pipelined: Bool, shared: Bool) -> Int {
        var batchSize = pipelined ? min(4096, max(256, spec.maxInFlight * 8)) : spec.maxInFlight
        if let rate = claimRate(spec) {
            // About a second's worth of sends claimed at a time, so few rows sit claimed; a
            // quarter of a second's when the journal hands out the slots of a shared rate.
            // With sender pools in one process, four seconds': a batch is sent to its end before
            // the next starts, so a short one ends on its slowest identity's share while the
            // others idle (resent free after a crash, as the provider dedupes).
            let seconds = shared ? 0.25 : spec.senders.hasPools && pipelined ? 4 : 1
            let horizon = (rate * seconds).rounded(.up)
            batchSize = min(batchSize, max(shared ? 1 : spec.maxInFlight, Int(horizon)))
        }
        return batchSize
    }

    /// The dispatcher of this run: its retry policy, rate (in process; on a shared journal the
    /// journal hands out the slots), failover and sender pools.
    private func makeDispatcher(_ providers: ProviderSet, lease: LeaseClock, pipelined: Bool, shared: Bool) -> Dispatcher {
        let spec = plan.spec
        return Dispatcher(campaign: key.description, providers: providers, maxInFlight: spec.maxInFlight,
                          dryRun: options.dryRun,
                          policy: RetryPolicy(maxAttempts: spec.maxAttempts,
                                              baseDelay: Int64(spec.initialBackoffMilliseconds),
                                              maxDelay: Int64(spec.maxBackoffMilliseconds),
                                              resendsUnanswered: pipelined),
                          limiter: shared ? nil : spec.messagesPerSecond.map { RateLimiter(messagesPerSecond: $0, burst: spec.burst) },
                          channel: plan.template.channel, lease: lease,
                          failover: spec.isRouted ? Failover(plan: plan, policy: spec.failover, logger: logger) : nil,
                          senders: SenderLimiters(spec.senders, inProcess: !shared), smsRoutes: SMSFallback.smsRoutes(spec))
    }

    /// The progress line's meter, from the campaign's counters (and its spend, when a line is drawn).
    private func makeMeter(cid: Int64, journal: JournalQueue) async throws -> ProgressMeter {
        let spec = plan.spec
        let startCounts = try await journal.run { try $0.counts(cid: cid) }
        var meter = ProgressMeter(done: startCounts[.sent] + startCounts[.failed] + startCounts[.skipped],
                                  total: startCounts.total, report: onProgress)
        if onProgress != nil {
            let ledger = try await journal.run { try $0.ledger(cid: cid) }
            meter.spent = ledger.reduce(Int64(0)) { total, entry in
                let sum = total.addingReportingOverflow(entry.spent.nanos).partialValue
                return sum.addingReportingOverflow(entry.reserved.nanos).partialValue
            }
            meter.limit = limits.campaignLimit
            meter.dryRun = options.dryRun
            meter.plannedRate = Self.claimRate(spec)
            meter.window = spec.schedule.window
            meter.windowStart = spec.schedule.window.map { String(format: "%02d:%02d", $0.start / 60, $0.start % 60) }
        }
        return meter
    }

    /// Watches the campaign while batches are sent, until cancelled or a pause or cancel is
    /// taken (into `control`): the control word twice a second, each provider's delivery speed,
    /// demotions shared with the campaign's other senders, and the lease's heartbeat.
    private func watch(cid: Int64, owner: LeaseOwner, journal: JournalQueue, dispatcher: Dispatcher, lease: LeaseClock,
                       control: StopSignal) -> Task<Void, Never> {
        Task {
            var beat = ContinuousClock.now
            while !Task.isCancelled, control.requested == nil {
                try? await Task.sleep(for: .milliseconds(500))
                if let request = try? await journal.run({ try $0.control(cid: cid) }) {
                    control.request(request == .pause ? .paused : .cancelled)
                }
                // Each provider's delivery speed, from the receipts of a sample of what it took.
                if let failover = dispatcher.failover, case let now = Int64(Date().timeIntervalSince1970 * 1000),
                    let rows = failover.speedCheckRows(at: now),
                    let found = try? await journal.run({ try $0.finalReceipts(cid: cid, rows: rows) })
                {
                    failover.judgeSpeed(finalAt: found, at: now)
                }
                // Providers demoted here go to the campaign's other senders at once; theirs are
                // read every two seconds (a failed write keeps nothing back: this sender's own
                // view holds either way).
                if let failover = dispatcher.failover {
                    let mine = failover.takeUnshared()
                    if !mine.isEmpty || beat.duration(to: .now) >= .seconds(2),
                        let shared = try? await journal.run({ journal in
                            try journal.shareDemotions(cid: cid, mine)
                            return try journal.sharedDemotions(cid: cid)
                        })
                    {
                        failover.adopt(shared, at: Int64(Date().timeIntervalSince1970 * 1000))
                    }
                }
                if beat.duration(to: .now) >= .seconds(2) {
                    beat = .now
                    // A heartbeat that fails (the journal out of reach) renews nothing: the
                    // term runs out and sending stops until a step gets through.
                    _ = try? await lease.renewing({ $0 }) { try await journal.run { try $0.heartbeat(cid: cid, owner: owner) } }
                }
            }
        }
    }

    private func isProviderStop(_ reason: StopReason?) -> Bool {
        switch reason {
        case .budget(.provider, _), .providerRefused: return true
        default: return false
        }
    }

    /// On a shared journal, once nothing is left to claim here: while rows are still pending
    /// or held by other senders (whose rows come back if they die), waits a quarter of a
    /// second and says to step again; each step takes over the rows of expired leases.
    private func othersHoldRows(cid: Int64, journal: JournalQueue, meter: inout ProgressMeter) async throws -> Bool {
        guard stop.requested == nil else { return false }
        let counts = try await journal.run { try $0.counts(cid: cid) }
        guard counts[.sending] + counts[.pending] > 0 else { return false }
        meter.waiting()
        try? await Task.sleep(for: .milliseconds(250))
        return true
    }

    /// The rows waiting for their send window and when the next opens, for the progress line
    /// (from the counters, every two seconds); and every ten, the rows not yet sent by zone (and
    /// waiting ones by the minute they fall due), for the ETA (a pass over the unsent rows).
    private func refreshPlan(cid: Int64, journal: JournalQueue, meter: inout ProgressMeter) async throws {
        guard plan.spec.schedule.window != nil else { return meter.plan(waitingForWindow: 0, opens: nil) }
        let (counts, next) = try await journal.run { (try $0.counts(cid: cid), try $0.nextRetry(cid: cid)) }
        meter.plan(waitingForWindow: counts.waitingByReason[.window, default: 0],
                   opens: next.map { Date(timeIntervalSince1970: Double($0) / 1000) })
        if meter.wantsMinutes {
            let started = ContinuousClock.now
            let groups = try await journal.run { try $0.remainingByZone(cid: cid) }
            meter.plan(remaining: groups, took: started.duration(to: .now))
        }
    }

    /// Sleeps until the next retry falls due, waking early for a stop request or a
    /// pause/cancel (returned), keeping the lease fresh.
    private func waitForRetry(due: Int64, cid: Int64, owner: LeaseOwner, journal: JournalQueue,
                              meter: inout ProgressMeter) async throws -> CampaignControl? {
        var watch = ControlWatch(cid: cid, owner: owner)
        while stop.requested == nil {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if now >= due { return nil }
            if meter.wantsPlan { try await refreshPlan(cid: cid, journal: journal, meter: &meter) }
            meter.waiting()
            try? await Task.sleep(for: .milliseconds(min(due - now, 100)))
            if let control = try await watch.poll(journal) { return control }
        }
        return nil
    }
}

/// While a run waits (start time, retries, send windows): checks for a pause or
/// cancel twice a second and refreshes the lease every two seconds.
struct ControlWatch {
    let cid: Int64
    let owner: LeaseOwner
    private var lastCheck = ContinuousClock.now
    private var lastBeat = ContinuousClock.now

    init(cid: Int64, owner: LeaseOwner) {
        self.cid = cid
        self.owner = owner
    }

    mutating func poll(_ journal: JournalQueue) async throws -> CampaignControl? {
        let now = ContinuousClock.now
        if lastBeat.duration(to: now) >= .seconds(2) {
            lastBeat = now
            try await journal.run { [cid, owner] in try $0.heartbeat(cid: cid, owner: owner) }
        }
        guard lastCheck.duration(to: now) >= .milliseconds(500) else { return nil }
        lastCheck = now
        return try await journal.run { [cid] in try $0.control(cid: cid) }
    }
}

/// Counts finished rows and reports progress at most five times a second: rows done, the
/// spend against the campaign's limit, the rows waiting for a send window and when it opens,
/// and an ETA from the campaign's rate and the windows.
struct ProgressMeter {
    var done: Int
    let total: Int
    let report: (@Sendable (RunProgress) -> Void)?
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now
    private var lastPlan: ContinuousClock.Instant?
    private var sentThisRun = 0
    /// Spent and reserved (nano-dollars): the ledger when the run started plus what this run sent.
    var spent: Int64 = 0
    var limit: Money?
    var dryRun = false
    /// Messages a second the campaign is paced at (nil: as fast as it goes).
    var plannedRate: Double?
    var windowStart: String?
    private var waitingForWindow = 0
    private var windowOpens: Date?
    /// The campaign's send window, for the ETA.
    var window: SendWindow? {
        didSet { gate = window.map { WindowGate(window: $0) } }
    }
    private var gate: WindowGate?
    /// The rows not yet sent by zone and due minute (`remainingByZone`), and when that was read.
    private var remainingGroups: [RemainingRows]?
    private var lastMinutes: ContinuousClock.Instant?
    private var waitingWhenRead = 0
    private var minutesCost = Duration.zero

    init(done: Int, total: Int, report: (@Sendable (RunProgress) -> Void)?) {
        self.done = done
        self.total = total
        self.report = report
    }

    mutating func finished(sent: Bool, cost: Int64 = 0) {
        done += 1
        if sent {
            sentThisRun += 1
            spent = spent.addingReportingOverflow(cost).overflow ? .max : spent + cost
        }
    }

    /// Whether the window counts are due for a refresh (every two seconds, only when shown).
    var wantsPlan: Bool {
        guard report != nil else { return false }
        guard let lastPlan else { return true }
        return lastPlan.duration(to: .now) >= .seconds(2)
    }

    mutating func plan(waitingForWindow rows: Int, opens: Date?) {
        lastPlan = .now
        waitingForWindow = rows
        windowOpens = rows > 0 ? opens : nil
    }

    /// Whether the rows by zone are due for a refresh: every ten seconds, sooner when the rows
    /// waiting for a window changed since they were read; never more often than fifty times the
    /// last read took (a pass over the unsent rows, so about 2% of the journal's time at most).
    var wantsMinutes: Bool {
        guard let lastMinutes else { return true }
        let since = lastMinutes.duration(to: .now)
        guard since >= minutesCost * 50 else { return false }
        return waitingForWindow != waitingWhenRead || since >= .seconds(10)
    }

    mutating func plan(remaining groups: [RemainingRows], took: Duration) {
        lastMinutes = .now
        minutesCost = took
        waitingWhenRead = waitingForWindow
        remainingGroups = groups
    }

    mutating func tick(force: Bool = false) { emit(.sending, force: force) }
    mutating func waiting() { emit(.waiting, force: false) }

    private mutating func emit(_ phase: RunProgress.Phase, force: Bool) {
        guard let report else { return }
        let now = ContinuousClock.now
        guard force || last.duration(to: now) >= .milliseconds(200) else { return }
        last = now
        let seconds = start.duration(to: now).seconds
        let rate = seconds > 0 ? Double(sentThisRun) / seconds : 0
        let left = rate > 0 ? Double(total - done) / rate : nil
        var progress = RunProgress(phase: phase, done: done, total: total, rate: rate, secondsLeft: left)
        progress.spent = Money(nanos: spent)
        progress.limit = limit
        progress.dryRun = dryRun
        progress.waitingForWindow = waitingForWindow
        progress.windowOpens = windowOpens
        progress.windowStart = windowStart
        progress.finishesAt = ETA.finish(ETA.adjusted(remainingGroups ?? [], remaining: total - done), window: window,
                                         rate: plannedRate ?? (rate > 0 ? rate : nil), now: Date(), gate: gate)
        report(progress)
    }
}
