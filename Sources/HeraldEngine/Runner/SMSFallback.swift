import HeraldCore
import HeraldJournal
import HeraldProviders
import Logging

/// RCS rows that go as SMS through another provider (`sms_fallback:`) once a receipt proves
/// the RCS message was not delivered (`RCSFallbackRule`): the sender reads the receipts the
/// journal took since its last look, quotes each such row's `fallback_sms` on the SMS route
/// (its parts counted and priced that route's way) and moves it there, due now; the send loop
/// then sends it as any retry. A run waits, once nothing else is left, for the final receipts
/// of the RCS rows it sent on such a route (up to `sms_fallback_wait`).
struct SMSFallback {
    struct Source {
        let route: Int
        let target: Int
        let proof: RCSFailureProof
        let wait: Int
    }

    let sources: [Source]
    private let names: [String]
    private let quoter: FallbackQuoter
    private let logger: Logger
    /// Receipts after this one are read by the next pass.
    private var after: Int64 = 0
    /// The last receipt each pass read, and when: the next pass starts from the newest read a
    /// minute ago (PostgreSQL numbers receipts as they are written, not as they commit, so one
    /// committed late may sit below the last read); after the first pass, 10,000 below its end.
    private var marks: [(at: ContinuousClock.Instant, last: Int64)] = []
    private var started = false
    private var lastPass: ContinuousClock.Instant?
    /// When the run first found nothing left but receipts to wait for.
    private var waitingSince: ContinuousClock.Instant?
    private var lastCount: ContinuousClock.Instant?
    private var countEvery = Duration.seconds(2)
    private var awaiting = 0

    init?(plan: CampaignPlan, logger: Logger) {
        let routes = plan.spec.routes
        sources = routes.indices.compactMap { index in
            guard let target = routes[index].smsFallback, let proof = routes[index].provider.settings.rcsFailureProof else { return nil }
            return Source(route: index, target: target, proof: proof, wait: routes[index].smsFallbackWait)
        }
        guard !sources.isEmpty else { return nil }
        names = routes.map(\.name)
        quoter = FallbackQuoter(plan: plan)
        self.logger = logger
    }

    /// The routes rows fall back to: their rows go as SMS.
    static func smsRoutes(_ spec: CampaignSpec) -> Set<Int> { Set(spec.routes.indices.filter { spec.routes[$0].fallbackOnly }) }

    /// Reads what receipts came and moves the rows they prove failed; at most every `every`.
    /// Returns how many moved.
    mutating func pass(cid: Int64, journal: JournalQueue, every: Duration = .seconds(2)) async throws -> Int {
        if let lastPass, lastPass.duration(to: .now) < every { return 0 }
        lastPass = .now
        var moved = 0
        var newest = after
        for group in Dictionary(grouping: sources, by: \.proof.source.rawValue).values {
            let proof = group[0].proof
            let routes = group.map(\.route)
            let from = after
            let (rows, last) = try await journal.run { try $0.fallbackCandidates(cid: cid, proof: proof, routes: routes, after: from) }
            newest = max(newest, last)
            let moves = rows.compactMap { candidate in group.first { $0.route == candidate.route }.flatMap { quote(candidate, $0) } }
            // In transactions of at most 2,000 rows: the receipts' writers wait for none of them long.
            var count = 0
            for start in stride(from: 0, to: moves.count, by: 2_000) {
                let chunk = Array(moves[start..<min(moves.count, start + 2_000)])
                count += try await journal.run { try $0.fallBack(cid: cid, chunk) }
            }
            if count > 0 {
                moved += count
                logger.info("RCS rows not delivered go as SMS", metadata: ["rows": "\(count)"])
            }
        }
        advance(to: newest)
        return moved
    }

    private mutating func advance(to last: Int64) {
        let now = ContinuousClock.now
        if !started {
            started = true
            after = max(0, last - 10_000)
        }
        marks.append((now, last))
        while let first = marks.first, first.at.duration(to: now) >= .seconds(60) {
            after = max(after, first.last)
            marks.removeFirst()
        }
    }

    /// The SMS of `candidate` through its source's SMS route: nil (it stays) when its content
    /// has no fallback_sms or the route's book has no SMS price for its country.
    private func quote(_ candidate: FallbackCandidate, _ source: Source) -> FallbackMove? {
        switch quoter.quote(content: candidate.body ?? "", region: candidate.region, through: source.target) {
        case .noText:
            logger.warning("an RCS row has no fallback_sms to send", metadata: ["row": "\(candidate.row)"])
            return nil
        case .noPrice:
            logger.warning("no SMS price for the row's country in the fallback provider's book: it stays undelivered",
                           metadata: ["row": "\(candidate.row)", "country": "\(candidate.region ?? "?")",
                                      "provider": "\(names[source.target])"])
            return nil
        case .sms(let parts, let cost):
            return FallbackMove(row: candidate.row, from: source.route, to: source.target, parts: parts, cost: cost.nanos,
                                signal: candidate.signal,
                                detail: RCSFallbackRule.detail(candidate.signal, from: names[source.route], to: names[source.target]))
        }
    }

    /// Once nothing else is left to send: whether to wait for more receipts (RCS rows sent on a
    /// source route have none final yet, and the wait has not run out). Counts every 2 s.
    mutating func shouldWait(cid: Int64, journal: JournalQueue) async throws -> Bool {
        let now = ContinuousClock.now
        if waitingSince == nil { waitingSince = now }
        let longest = sources.map(\.wait).max() ?? 0
        guard let since = waitingSince, since.duration(to: now) < .seconds(longest) else { return false }
        if lastCount.map({ $0.duration(to: now) >= countEvery }) ?? true {
            lastCount = now
            let routes = sources.map(\.route)
            awaiting = try await journal.run { try $0.awaitingReceipts(cid: cid, routes: routes) }
            // A pass over the campaign's rows: at most a tenth of the journal's time (every 2 s
            // for small campaigns, less often for millions of rows).
            countEvery = max(.seconds(2), now.duration(to: .now) * 10)
            if since == now, awaiting > 0 {
                logger.notice("waiting for the final receipts of RCS rows that may fall back to SMS",
                              metadata: ["rows": "\(awaiting)", "up_to_seconds": "\(longest)"])
            }
        }
        return awaiting > 0
    }

    /// Something was sent again: a later wait starts afresh.
    mutating func resumed() { waitingSince = nil }
}

/// The SMS an RCS row falls back to (its rendered content's `fallback_sms`), its parts counted
/// and priced the SMS route's way: what the sender moves a row with, and what `estimate` says
/// the fallbacks could add.
struct FallbackQuoter {
    enum Quote: Equatable {
        case sms(parts: Int, cost: Money)
        /// The stored content has no readable fallback_sms.
        case noText
        /// The SMS route's book has no SMS price for the row's country.
        case noPrice
    }

    private let routes: [RouteQuoter.Route]
    /// The route each RCS route falls back to (`sms_fallback:`).
    let targets: [Int: Int]

    init(plan: CampaignPlan) {
        routes = RouteQuoter(plan: plan).routes
        var targets: [Int: Int] = [:]
        for (index, route) in plan.spec.routes.enumerated() { targets[index] = route.smsFallback }
        self.targets = targets
    }

    /// The SMS a row on `route` would fall back to; nil when its route falls back nowhere.
    func quote(rendered: UnsafeBufferPointer<UInt8>, region: String?, route: Int) -> Quote? {
        guard let target = targets[route] else { return nil }
        return quote(text: Dispatcher.fallbackText(rendered), region: region, through: target)
    }

    func quote(content: String, region: String?, through target: Int) -> Quote {
        quote(text: Dispatcher.fallbackText(content), region: region, through: target)
    }

    private func quote(text: String?, region: String?, through target: Int) -> Quote {
        guard let text else { return .noText }
        let route = routes[target]
        let segments = Array(text.utf8).withUnsafeBufferPointer { SMSSegments(utf8: $0, packing: route.packing) }
        guard let book = route.book else { return .sms(parts: segments.parts, cost: .zero) }
        guard let unit = book.price(region: region ?? "", channel: .sms) else { return .noPrice }
        return .sms(parts: segments.parts, cost: PriceBook.cost(unit: unit, channel: .sms, parts: segments.parts))
    }
}
