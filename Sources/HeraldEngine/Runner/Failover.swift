import Foundation
import HeraldCore
import HeraldJournal
import HeraldProviders
import Logging
import Synchronization

/// Failover for a run of a campaign with several providers: each provider's health, from the
/// answers this sender gets (`ProviderHealth`), and where a row that may move goes
/// (`FailoverRule`): to another provider that fits it, chosen by the campaign's routing, its
/// parts and price counted that provider's way, never above MaxPrice.
final class Failover: Sendable {
    private struct State {
        var health: [ProviderHealth]
        var quoter: RouteQuoter
        /// A sample of each provider's accepted messages (row, when taken), for its delivery speed.
        var taken: [[(row: Int, at: Int64)]]
        var lastCheck: Int64 = 0
        /// Demotions made here and not yet written to the journal for the campaign's other senders.
        var unshared: [SharedDemotion] = []
    }

    /// At most this many accepted messages per provider are kept for the speed sample.
    static let sampleLimit = 1_000

    private let state: Mutex<State>
    private let rule: RouteRule
    private let maxPrice: Int64?
    private let names: [String]
    private let logger: Logger
    let policy: FailoverPolicy

    init(plan: CampaignPlan, policy: FailoverPolicy = FailoverPolicy(), logger: Logger) {
        let routes = plan.spec.routes
        self.policy = policy
        state = Mutex(State(health: routes.map { _ in ProviderHealth(policy: policy) }, quoter: RouteQuoter(plan: plan),
                            taken: routes.map { _ in [] }))
        rule = RouteRule(strategy: plan.spec.routing)
        maxPrice = plan.spec.budget.maxPrice?.nanos
        names = routes.map(\.name)
        self.logger = logger
    }

    /// What an answer says about its provider's health.
    static func signal(_ outcome: SendOutcome) -> ProviderSignal {
        switch outcome {
        case .accepted, .permanent, .optedOut, .overMaxPrice, .spendLimit: .answered
        case .transient, .indeterminate: .failing
        case .unreached: .unreached
        case .throttled: .throttled
        case .campaignRefused: .refused
        }
    }

    func isDemoted(route: Int, at now: Int64) -> Bool {
        state.withLock { $0.health.indices.contains(route) && $0.health[route].isDemoted(at: now) }
    }

    /// Counts an answer of `route`'s provider; says so when it demotes the provider.
    func record(_ signal: ProviderSignal, route: Int, at now: Int64) {
        let demoted = state.withLock { state -> (until: Int64, why: String)? in
            guard state.health.indices.contains(route), let until = state.health[route].record(signal, at: now) else { return nil }
            let why = state.health[route].reason ?? ""
            state.unshared.append(SharedDemotion(route: route, until: until, reason: why))
            return (until, why)
        }
        if let demoted {
            logger.warning("provider \(names[route].quoted) demoted for \((demoted.until - now + 999) / 1000) s: \(demoted.why); rows that may move go to the others")
        }
    }

    // MARK: Delivery speed (receipts)

    /// Notes an accepted message for its provider's speed sample: one every hundredth of
    /// `deliveredWithin` at most, so the sample spans the whole window at any rate.
    func taken(row: Int, route: Int, at now: Int64) {
        let spacing = max(1, policy.slow.deliveredWithin / 100)
        state.withLock { state in
            guard state.taken.indices.contains(route) else { return }
            if let last = state.taken[route].last, now - last.at < spacing { return }
            state.taken[route].append((row, now))
            let cutoff = now - policy.slow.window
            if state.taken[route].count > Self.sampleLimit || (state.taken[route].first?.at ?? now) < cutoff {
                state.taken[route].removeAll { $0.at < cutoff }
                if state.taken[route].count > Self.sampleLimit { state.taken[route].removeFirst(state.taken[route].count - Self.sampleLimit) }
            }
        }
    }

    /// The rows to look up receipts for, when a check of the providers' speed is due at `now`
    /// (every half of `deliveredWithin`, at most every 30 s); nil when not.
    func speedCheckRows(at now: Int64) -> [Int]? {
        let every = min(30_000, max(500, policy.slow.deliveredWithin / 2))
        return state.withLock { state -> [Int]? in
            guard now - state.lastCheck >= every else { return nil }
            state.lastCheck = now
            let rows = state.taken.flatMap { $0.map(\.row) }
            return rows.isEmpty ? nil : rows
        }
    }

    /// Judges each provider's speed from the sample and the receipts found (`SlowDeliveryRule`);
    /// demotes the slow ones and says so.
    func judgeSpeed(finalAt: [Int: Int64], at now: Int64) {
        let demoted = state.withLock { state -> [(route: Int, until: Int64, why: String)] in
            var samples: [Int: [DeliverySample]] = [:]
            for (route, taken) in state.taken.enumerated() {
                samples[route] = taken.map { DeliverySample(sentAt: $0.at, finalAt: finalAt[$0.row]) }
            }
            let demoted = SlowDeliveryRule.slow(samples, at: now, policy: policy.slow).sorted { $0.key < $1.key }.compactMap { route, why in
                state.health[route].demoteSlow(why, at: now).map { (route: route, until: $0, why: why) }
            }
            state.unshared += demoted.map { SharedDemotion(route: $0.route, until: $0.until, reason: $0.why) }
            return demoted
        }
        for demotion in demoted {
            logger.warning("provider \(names[demotion.route].quoted) demoted for \((demotion.until - now + 999) / 1000) s: \(demotion.why); rows that may move go to the others")
        }
    }

    // MARK: Shared with the campaign's other senders

    /// The demotions made here since the last call, to write to the journal.
    func takeUnshared() -> [SharedDemotion] {
        state.withLock { state in
            defer { state.unshared = [] }
            return state.unshared
        }
    }

    /// Takes the demotions the campaign's senders wrote to the journal (this one's included,
    /// which change nothing); says so for each provider another sender demoted.
    func adopt(_ shared: [SharedDemotion], at now: Int64) {
        let adopted = state.withLock { state in
            shared.filter { demotion in
                state.health.indices.contains(demotion.route)
                    && state.health[demotion.route].adopt(until: demotion.until, why: demotion.reason, at: now)
            }
        }
        for demotion in adopted {
            logger.warning("provider \(name(demotion.route).quoted) demoted for \((demotion.until - now + 999) / 1000) s by another sender of the campaign: \(demotion.reason); rows that may move go to the others")
        }
    }

    /// Where `claimed` goes instead of its provider after `signal` (nil: not sent, its
    /// provider demoted), or nil when it stays: it may not move (`FailoverRule.mayMove`), or
    /// no other provider fits it now.
    func move(_ claimed: ClaimedMessage, after signal: ProviderSignal?, at now: Int64) -> RouteMove? {
        // Most answers can never move a row (accepted, a server error, a doubted row): decided
        // here, without the lock, on every send.
        guard let region = claimed.region,
            FailoverRule.mayMove(after: signal, attempts: claimed.attempts, doubted: claimed.doubted, providerDemoted: true)
        else { return nil }
        return state.withLock { state -> RouteMove? in
            let demoted = Set(state.health.indices.filter { state.health[$0].isDemoted(at: now) })
            guard FailoverRule.mayMove(after: signal, attempts: claimed.attempts, doubted: claimed.doubted,
                                       providerDemoted: demoted.contains(claimed.route))
            else { return nil }
            var body = Array(claimed.body.utf8)
            return body.withUnsafeMutableBufferPointer { buffer -> RouteMove? in
                let bytes = UnsafeBufferPointer(buffer)
                let quote = state.quoter.quote(region: region, body: bytes)
                var fits: [RouteCandidate] = []
                var parts: [Int: Int] = [:]
                for (candidate, segments) in zip(quote.candidates, quote.segments)
                where maxPrice.map({ candidate.cost <= $0 }) ?? true
                    && state.quoter.problem(route: candidate.route, segments: segments, body: bytes) == nil
                {
                    fits.append(candidate)
                    parts[candidate.route] = segments.parts
                }
                guard let chosen = FailoverRule.alternative(fits, leaving: claimed.route, demoted: demoted, rule: rule, line: claimed.row)
                else { return nil }
                return RouteMove(from: claimed.route, to: chosen.route, parts: parts[chosen.route] ?? claimed.parts, cost: chosen.cost,
                                 reason: Self.describe(signal))
            }
        }
    }

    /// The name of route `index`, as the campaign file gives it.
    func name(_ index: Int) -> String { names.indices.contains(index) ? names[index] : "#\(index + 1)" }

    private static func describe(_ signal: ProviderSignal?) -> String {
        switch signal {
        case nil: "demoted"
        case .unreached: "unreached"
        case .refused: "campaign_refused"
        case .throttled: "throttled"
        case .failing: "failing"
        case .answered: "answered"
        }
    }
}
