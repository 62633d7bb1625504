import Foundation
import HeraldCore
import HeraldSettings
import HeraldProviders
import HeraldJournal
import Logging

/// Runs one campaign: imports it on first sight, then claims, sends and settles
/// batches until every row has ended, a stop is requested, or `--limit` is reached.
///
/// Exactly-once: a batch is marked `sending` in a committed transaction before any
/// of it leaves; outcomes are settled in the next step's transaction. Rows left
/// `sending` by a process that died come back `in_doubt`.
public struct CampaignRunner: Sendable {
    public let plan: CampaignPlan
    public let journalPath: String
    public let options: RunOptions
    public let stop: StopSignal
    public var onProgress: (@Sendable (RunProgress) -> Void)?
    /// Sends through this provider instead of the one the campaign names (a seam
    /// for tests and benchmarks that wrap or replace the provider).
    public var provider: (any MessageProvider)?
    public var logger = Logger(label: "herald.run")

    public init(plan: CampaignPlan, journalPath: String, options: RunOptions, stop: StopSignal) {
        self.plan = plan
        self.journalPath = journalPath
        self.options = options
        self.stop = stop
    }

    /// The journal key: a simulation of a real provider's campaign keeps its own
    /// progress, so rehearsing never marks real recipients as sent.
    var key: CampaignKey { CampaignKey(id: plan.spec.id, mode: options.mode(for: plan.spec)) }

    /// A dry run is held to MaxPrice only: it reports the would-be cost, it spends nothing.
    var limits: BudgetLimits {
        options.dryRun ? BudgetLimits(maxPrice: plan.spec.budget.maxPrice) : plan.spec.budget
    }

    public func run() async throws -> RunSummary {
        let started = ContinuousClock.now
        if options.strict {
            let report = try plan.validate()
            guard report.isClean else { throw ValidationFailed(report: report) }
        }
        // Credentials and settings are checked before the journal is touched. A provider
        // makes its connections on the first send, so leaving early needs no shutdown.
        let ready: ProviderSet? = options.scheduleAt == nil ? try makeProviders() : nil
        if options.dryRun, let ready, let delivering = ready.providers.first(where: { !$0.capabilities.validatesWithoutDelivering }) {
            throw InputError(file: plan.spec.campaignPath,
                             "provider: \(delivering.name) has no validate-only mode, so --dry-run would deliver; rehearse with --simulate")
        }
        let recipientsSHA = try FileDigest.sha256(path: plan.spec.recipientsPath)
        var inputs = plan.inputs(recipientsSHA: recipientsSHA)
        let key = self.key
        inputs.mode = key.mode
        inputs.ledgerScope = options.ledgerScope(for: plan.spec)
        inputs.limits = limits
        inputs.sender = options.byWorker ? .worker : .run
        inputs.providerDedupes = ready?.dedupes ?? false
        let journal = JournalQueue(try JournalOpener.open(journalPath))
        if options.dryRun { try await journal.run { try $0.discardCampaign(id: key.id, mode: key.mode) } }
        if options.mustExist, try await journal.run({ try $0.campaign(id: key.id, mode: key.mode) }) == nil {
            throw JournalError.unknownCampaign(key.description, path: journalPath)
        }
        let owner = LeaseOwner()
        let spec = plan.spec
        let unpause = options.unpause
        func open() async throws -> CampaignOpening {
            try await journal.run { [inputs] in
                try $0.open(inputs, owner: owner, recipientsPath: spec.recipientsPath, templatePath: spec.templatePath,
                            unpause: unpause)
            }
        }
        var opening = try await open()
        var imported = 0
        var importSeconds = 0.0
        // An import cut short (PostgreSQL: the connection, and the import lock with it, was
        // lost) may be another sender's to redo: open again, and import or join.
        while case .needsImport(let id) = opening {
            let importStart = ContinuousClock.now
            do {
                imported = try await importRows(cid: id, journal: journal)
            } catch let error as JournalError where error.isImportCutShort {
                logger.warning("the import was cut short; opening the campaign again", metadata: ["campaign": "\(key)"])
                opening = try await open()
                continue
            }
            importSeconds = importStart.duration(to: .now).seconds
            ProcessMemory.returnFreedMemory()
            break
        }
        let cid: Int64
        var recovered = 0
        switch opening {
        case .needsImport(let id):
            cid = id
        case .ready(let id, let inDoubt):
            cid = id
            recovered = inDoubt
            if inDoubt > 0 {
                logger.warning("rows were in flight when the last run died", metadata: ["campaign": "\(key)", "in_doubt": "\(inDoubt)"])
            }
        }
        if let at = options.scheduleAt {
            try await journal.run {
                try $0.schedule(cid: cid, at: at)
                try $0.release(cid: cid, owner: owner, state: .scheduled)
            }
            let counts = try await journal.run { try $0.counts(cid: cid) }
            return RunSummary(
                campaign: key.description, state: .scheduled, counts: counts, sentThisRun: 0,
                elapsedSeconds: started.duration(to: .now).seconds, stop: nil, imported: imported,
                importSeconds: importSeconds, spent: .zero, failedRows: [], dryRun: false,
                recoveredInDoubt: recovered, resentInDoubt: false)
        }
        let providers = try ready ?? makeProviders()
        let resend = providers.dedupes || options.resendInDoubt
        var outcome: (sent: Int, stop: StopReason?) = (0, nil)
        do {
            let dedupes = providers.dedupes
            // Asked for by hand (the provider does not dedupe): only rows past the receipt grace.
            let graceCutoff: Int64? = dedupes ? nil
                : Int64(Date().timeIntervalSince1970 * 1000) - Int64(options.receiptGrace.components.seconds) * 1000
            if resend {
                _ = try await journal.run { try $0.resendInDoubt(cid: cid, providerDedupes: dedupes, attemptedBefore: graceCutoff) }
            }
            let rid = try await journal.run { try $0.startRun(cid: cid, mode: key.mode, owner: owner) }
            if let cap = plan.spec.frequencyCap {
                try await journal.run { try $0.prepareFrequencyCap(cid: cid, cap: cap) }
            }
            let suppressUndeliverable = plan.spec.suppressUndeliverable
            try await journal.run { try $0.setSuppressUndeliverable(cid: cid, suppressUndeliverable) }
            try await journal.run { try $0.setState(cid: cid, .running) }
            if let early = try await waitForStart(cid: cid, owner: owner, journal: journal) {
                outcome = (0, early)
            } else {
                let receipts = try providers.distinct.compactMap { try simulatedReceipts($0, cid: cid) }
                outcome = try await sendLoop(cid: cid, owner: owner, journal: journal, providers: providers)
                for run in receipts { run.finish() }
            }
            await providers.shutdown()
            let (finalCounts, spent, refused) = try await journal.run { journal in
                (try journal.counts(cid: cid),
                 try journal.ledger(cid: cid).reduce(Money.zero) { $0 + $1.spent + $1.reserved },
                 try journal.rows(cid: cid, in: .failed, limit: 20))
            }
            // A cancel that came while this run stopped for another reason (its budget, a
            // limit, a signal) still cancels: it skipped rows, or leaves some unsent. One that
            // came after the last row was claimed, when every row ended sent, changes nothing
            // (journey seeds 60140 and 7930: the campaign read budget_exhausted or completed
            // while every resume was refused as cancelled).
            let control = outcome.stop == .cancelled ? nil : try await journal.run { try $0.control(cid: cid) }
            let lateCancel = Self.cancelsLate(control: control, counts: finalCounts)
            if outcome.stop == .cancelled || lateCancel {
                // Rows put back by the stop are skipped too.
                _ = try await journal.run { try $0.request(.cancel, campaign: key.id, mode: key.mode) }
            }
            let state: CampaignState
            if outcome.stop == .cancelled || lateCancel {
                state = .cancelled
            } else if outcome.stop == .paused {
                state = .paused
            } else if finalCounts.open == 0 {
                state = .completed
            } else if outcome.stop == nil, journal.sharesCampaigns {
                // Nothing left to claim here; other senders still hold rows.
                state = .running
            } else if case .budget = outcome.stop {
                state = .budgetExhausted
            } else {
                state = .stopped
            }
            let end = outcome
            try await journal.run {
                let description = Self.describe(end.stop, state: state)
                try $0.endRun(rid: rid, outcome: description, sent: end.sent)
                try $0.setStop(cid: cid, kind: end.stop?.kind, description: end.stop == nil ? nil : description)
                try $0.release(cid: cid, owner: owner, state: state)
            }
            let elapsed = started.duration(to: .now)
            return RunSummary(
                campaign: key.description, state: state, counts: finalCounts, sentThisRun: outcome.sent,
                elapsedSeconds: elapsed.seconds, stop: outcome.stop, imported: imported, importSeconds: importSeconds,
                spent: spent, failedRows: refused, dryRun: options.dryRun, recoveredInDoubt: recovered,
                resentInDoubt: resend)
        } catch {
            await providers.shutdown()
            _ = try? await journal.run { try $0.release(cid: cid, owner: owner, state: .stopped) }
            throw error
        }
    }

    /// Waits in the foreground for `schedule.start_at` with a countdown, keeping the
    /// lease fresh. False when a stop was requested first.
    private func waitForStart(cid: Int64, owner: LeaseOwner, journal: JournalQueue) async throws -> StopReason? {
        guard let start = plan.spec.schedule.startAt, !options.dryRun else { return nil }
        var watch = ControlWatch(cid: cid, owner: owner)
        while stop.requested == nil {
            let left = start.timeIntervalSinceNow
            if left <= 0 { return nil }
            onProgress?(RunProgress(phase: .waiting, done: 0, total: 0, rate: 0, secondsLeft: left))
            try? await Task.sleep(for: .milliseconds(min(250, Int(left * 1000) + 1)))
            if let control = try await watch.poll(journal) { return control == .pause ? .paused : .cancelled }
        }
        return stop.requested
    }

    private static func describe(_ stop: StopReason?, state: CampaignState) -> String {
        switch stop {
        case .signal(let number): return "signal \(number)"
        case .limit: return "limit"
        case .budget(let kind, let detail): return detail.map { "\(kind.rawValue): \($0)" } ?? kind.rawValue
        case .paused: return "paused"
        case .cancelled: return "cancelled"
        case .providerRefused(let detail): return "provider_refused: \(detail)"
        case nil: return state.rawValue
        }
    }

    /// The simulator's receipts (`provider.receipts`), written to the journal through
    /// the same writer a receipts server uses.
    private func simulatedReceipts(_ provider: any MessageProvider, cid: Int64) throws -> SimulatedReceiptRun? {
        guard let simulator = provider as? SimulatorProvider, simulator.configuration.receipts != nil else { return nil }
        let writer = try ReceiptWriter(journalPath: journalPath)
        guard let source = simulator.startReceipts(campaign: plan.spec.id, sink: { events in
            writer.enqueue(events.map { event in
                var event = event
                if case .row(_, let row, _) = event.match { event.match = .journalRow(cid: cid, row: row) }
                return event
            })
        }) else {
            writer.close()
            return nil
        }
        return SimulatedReceiptRun(source: source, writer: writer)
    }

    /// Whether a cancel the send loop never saw (it came as the run stopped for another
    /// reason) ends the campaign cancelled: it did when it skipped rows or leaves rows
    /// unsent; not when every row had already ended without it.
    static func cancelsLate(control: CampaignControl?, counts: CampaignCounts) -> Bool {
        control == .cancel && (counts.open > 0 || counts.byReason[.cancelled, default: 0] > 0)
    }

    /// One provider for each route of the campaign, in `spec.routes` order.
    private func makeProviders() throws -> ProviderSet {
        let count = plan.spec.routes.count
        if let provider { return ProviderSet(Array(repeating: provider, count: count)) }
        if key.mode == .simulation {
            // A rehearsal of a real provider's campaign: nothing may leave this process.
            let simulator = try SimulatorProvider(configuration: SimulatorConfiguration())
            return ProviderSet(Array(repeating: simulator, count: count))
        }
        // The HTTP client is made on the first request: a provider whose setup fails leaves nothing open.
        let transport = AsyncHTTPClientTransport(maxConnections: plan.spec.maxInFlight)
        let journalPath = journalPath
        let context = ProviderContext(transport: transport, maxPrice: plan.spec.budget.maxPrice.map(\.description),
                                      receiptsURL: { route in try Self.receiptsURL(route, journalPath: journalPath) })
        var made: [any MessageProvider] = []
        for route in plan.spec.routes {
            do {
                made.append(try route.provider.settings.makeProvider(context))
            } catch {
                let set = ProviderSet(made)
                Task { await set.shutdown() }
                let place = plan.spec.isRouted ? "providers: \(route.name.quoted)" : "provider"
                throw InputError(file: plan.spec.campaignPath, line: plan.spec.isRouted ? route.line : nil, "\(place): \(error)")
            }
        }
        return ProviderSet(made)
    }

    /// The journal's callback URL for `provider` once `herald receipts url --base` set a base.
    private static func receiptsURL(_ route: ReceiptRoute, journalPath: String) throws -> String? {
        guard JournalOpener.exists(journalPath) else { return nil }
        let journal = try JournalOpener.receipts(journalPath)
        guard let base = try journal.receiptSetting("base_url") else { return nil }
        return "\(base)/receipts/\(route.name)/\(try journal.receiptToken())"
    }

    /// Imports every row; on failure the half-imported campaign is removed again.
    private func importRows(cid: Int64, journal: JournalQueue) async throws -> Int {
        let plan = self.plan
        let progress = onProgress
        do {
            let scanner = try RecipientScanner(plan: plan)
            let channel = HandOff<ScannedBatch>(capacity: 4)
            if plan.template.channel == .sms {
                // One scanning thread: the journal's writer is the slower stage (measured, 1M rows on
                // two cores: checking rows on two threads imported no faster), and the scanner flags
                // repeats in file order.
                scanner.produce(into: channel, flagRepeats: true)
            } else {
                // Structured content: scanning and checking the rendered messages run on two threads
                // (the checker reads only the scanner's immutable plan).
                scanner.deferContentRules = true
                let scanned = HandOff<ScannedBatch>(capacity: 4)
                // Rendered JSON is large: smaller batches keep memory flat.
                scanner.produce(into: scanned, batchSize: 1024, flagRepeats: true)
                scanner.checkContent(from: scanned, into: channel)
            }
            let languages = plan.template.languages?.codes ?? []
            return try await journal.run { journal in
                let writer = try journal.makeImporter(cid: cid)
                var lastReport = ContinuousClock.now
                do {
                    while let batch = try channel.take() {
                        try batch.bodies.withUnsafeBufferPointer { bodies in
                            var start = 0
                            for entry in batch.entries {
                                let body = UnsafeBufferPointer(rebasing: bodies[start..<entry.bodyEnd])
                                start = entry.bodyEnd
                                var row = ImportedRow(
                                    row: entry.line, destination: entry.phone?.digits, region: entry.phone?.region,
                                    body: body, skipReason: entry.problem?.reason,
                                    skipDetail: entry.problem?.description)
                                row.parts = entry.segments.parts
                                row.cost = entry.cost.nanos
                                row.route = entry.route
                                row.timeZones = entry.timeZones
                                row.language = entry.language.map { languages[$0] }
                                row.maybeRepeat = entry.maybeRepeat
                                try writer.add(row)
                            }
                        }
                        if let progress, lastReport.duration(to: .now) > .milliseconds(200) {
                            lastReport = .now
                            progress(RunProgress(phase: .importing, done: writer.rows, total: 0, rate: 0))
                        }
                    }
                } catch {
                    channel.cancel()
                    writer.abandon()
                    throw error
                }
                if writer.rows == 0 {
                    writer.abandon()
                    throw InputError(file: plan.spec.recipientsPath, "no recipient rows after the header")
                }
                do {
                    try scanner.checkEveryRouteFits()
                } catch {
                    writer.abandon()
                    throw error
                }
                try writer.finish()
                return writer.rows
            }
        } catch {
            // Cut short, the import may be another sender's now: nothing of it is this one's to discard.
            if (error as? JournalError)?.isImportCutShort != true {
                _ = try? await journal.run { try $0.discardImport(cid: cid) }
            }
            throw error
        }
    }
}

/// The providers of a run, one for each route of the campaign (the same provider may stand
/// for several routes: a test's, or the simulator of a `--simulate` run).
struct ProviderSet: Sendable {
    let providers: [any MessageProvider]

    init(_ providers: [any MessageProvider]) { self.providers = providers }

    /// The provider of `route`; nil when the campaign file no longer lists that many.
    func provider(route: Int) -> (any MessageProvider)? {
        providers.indices.contains(route) ? providers[route] : nil
    }

    /// Whether every one of them dedupes by idempotency key: only then may the run pipeline
    /// its claims and resend rows in doubt without asking.
    var dedupes: Bool { providers.allSatisfy(\.capabilities.honoursIdempotencyKeys) }

    /// Each provider once (a provider that is a class instance may stand for several routes).
    var distinct: [any MessageProvider] {
        var seen = Set<ObjectIdentifier>()
        return providers.filter { provider in
            guard type(of: provider) is AnyClass else { return true }
            return seen.insert(ObjectIdentifier(provider as AnyObject)).inserted
        }
    }

    func shutdown() async {
        for provider in distinct { await provider.shutdown() }
    }
}
