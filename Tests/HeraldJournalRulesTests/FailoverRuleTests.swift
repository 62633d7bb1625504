import HeraldJournal
import Testing

/// Failover that never guesses, case by case: when a row may leave its provider, where it
/// goes, and when a provider is demoted and tried again.
@Suite struct FailoverRuleTests {
    struct MoveCase: Sendable, CustomTestStringConvertible {
        let name: String
        let signal: ProviderSignal?
        let attempts: Int
        let doubted: Bool
        let demoted: Bool
        let moves: Bool
        var testDescription: String { name }
    }

    static let moveCases: [MoveCase] = [
        MoveCase(name: "never reached, first attempt: moves", signal: .unreached, attempts: 0, doubted: false, demoted: false, moves: true),
        MoveCase(name: "campaign refused: moves", signal: .refused, attempts: 0, doubted: false, demoted: true, moves: true),
        MoveCase(name: "throttled, provider in good standing: stays", signal: .throttled, attempts: 0, doubted: false, demoted: false,
                 moves: false),
        MoveCase(name: "throttled while demoted: moves", signal: .throttled, attempts: 0, doubted: false, demoted: true, moves: true),
        MoveCase(name: "server error: stays (it may have been taken)", signal: .failing, attempts: 0, doubted: false, demoted: true,
                 moves: false),
        MoveCase(name: "answered: stays", signal: .answered, attempts: 0, doubted: false, demoted: false, moves: false),
        MoveCase(name: "never reached after an answered attempt: stays", signal: .unreached, attempts: 1, doubted: false, demoted: true,
                 moves: false),
        MoveCase(name: "never reached after a lost answer (doubted): stays", signal: .unreached, attempts: 0, doubted: true,
                 demoted: true, moves: false),
        MoveCase(name: "not sent, provider demoted: moves", signal: nil, attempts: 0, doubted: false, demoted: true, moves: true),
        MoveCase(name: "not sent, provider in good standing: stays", signal: nil, attempts: 0, doubted: false, demoted: false,
                 moves: false),
        MoveCase(name: "not sent, demoted, but doubted: stays", signal: nil, attempts: 0, doubted: true, demoted: true, moves: false),
    ]

    @Test(arguments: moveCases) func mayMove(_ example: MoveCase) {
        #expect(FailoverRule.mayMove(after: example.signal, attempts: example.attempts, doubted: example.doubted,
                                     providerDemoted: example.demoted) == example.moves)
    }

    @Test func theAlternativeLeavesOutTheProviderLeftAndTheDemoted() {
        let candidates = [RouteCandidate(route: 0, cost: 1_000), RouteCandidate(route: 1, cost: 5_000), RouteCandidate(route: 2, cost: 3_000)]
        let cheapest = RouteRule(strategy: .leastCost), ordered = RouteRule(strategy: .ordered)
        #expect(FailoverRule.alternative(candidates, leaving: 0, demoted: [], rule: cheapest, line: 2)?.route == 2)
        #expect(FailoverRule.alternative(candidates, leaving: 0, demoted: [2], rule: cheapest, line: 2)?.route == 1)
        #expect(FailoverRule.alternative(candidates, leaving: 1, demoted: [], rule: ordered, line: 2)?.route == 0)
        #expect(FailoverRule.alternative(candidates, leaving: 0, demoted: [1, 2], rule: cheapest, line: 2) == nil)
        #expect(FailoverRule.alternative([candidates[0]], leaving: 0, demoted: [], rule: cheapest, line: 2) == nil)
    }

    static let policy = FailoverPolicy(coolDown: 1_000, maxCoolDown: 4_000, window: 10, failures: 3, throttles: 5)

    @Test func aRefusedConnectionDemotesAtOnceForTheCoolDown() {
        var health = ProviderHealth(policy: Self.policy)
        #expect(health.record(.answered, at: 0) == nil)
        #expect(health.record(.unreached, at: 100) == 1_100)
        #expect(health.isDemoted(at: 1_099) && !health.isDemoted(at: 1_100))
        // Answers to requests made before it change nothing during the cool-down.
        #expect(health.record(.answered, at: 500) == nil && health.isDemoted(at: 600))
    }

    @Test func serverErrorsAndThrottlingDemoteOncePastTheirShare() {
        var health = ProviderHealth(policy: Self.policy)
        #expect(health.record(.failing, at: 0) == nil)
        #expect(health.record(.answered, at: 1) == nil)
        #expect(health.record(.failing, at: 2) == nil)
        #expect(health.record(.failing, at: 3) == 1_003)
        #expect(health.reason?.contains("3 server errors") == true)

        var throttled = ProviderHealth(policy: Self.policy)
        for time in 0..<4 { #expect(throttled.record(.throttled, at: Int64(time)) == nil) }
        #expect(throttled.record(.throttled, at: 4) == 1_004)

        // Failures spread thinner than the window never demote.
        var spread = ProviderHealth(policy: Self.policy)
        for time in 0..<100 {
            #expect(spread.record(time % 5 == 0 ? .failing : .answered, at: Int64(time)) == nil, "answer \(time)")
        }
    }

    @Test func afterTheCoolDownTheFirstAnswerDecides() {
        var health = ProviderHealth(policy: Self.policy)
        #expect(health.record(.refused, at: 0) == 1_000)
        // Tried again and failed: demoted for twice as long, then four times, capped.
        #expect(health.record(.unreached, at: 1_000) == 3_000)
        #expect(health.demotions == 2)
        #expect(health.record(.failing, at: 3_000) == 7_000)
        #expect(health.record(.throttled, at: 7_000) == 11_000)
        // An answer restores it: in good standing, the next demotion as short as the first.
        #expect(health.record(.answered, at: 11_000) == nil)
        #expect(!health.isDemoted(at: 11_001) && health.demotions == 0 && health.reason == nil)
        #expect(health.record(.unreached, at: 12_000) == 13_000)
    }
}
