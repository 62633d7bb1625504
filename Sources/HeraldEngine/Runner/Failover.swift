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
    }

    private let state: Mutex<State>
    private let rule: RouteRule
    private let maxPrice: Int64?
    private let names: [String]
    private let logger: Logger

    init(plan: CampaignPlan, policy: FailoverPolicy = FailoverPolicy(), logger: Logger) {
        let routes = plan.spec.routes
        state = Mutex(State(health: routes.map { _ in ProviderHealth(policy: policy) }, quoter: RouteQuoter(plan: plan)))
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
            return (until, state.health[route].reason ?? "")
        }
        if let demoted {
            logger.warning("provider \(names[route].quoted) demoted for \((demoted.until - now + 999) / 1000) s: \(demoted.why); rows that may move go to the others")
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
