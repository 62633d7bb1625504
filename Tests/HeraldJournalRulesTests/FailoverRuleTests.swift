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

/// Demotions shared between the senders of a campaign: how the journal keeps them, how a sender
/// takes another's, and what it reads back from a hostile journal.
@Suite struct SharedDemotionRuleTests {
    static let now: Int64 = 1_000_000

    @Test(arguments: [
        // stored, added, kept (route: until)
        ([(1, 2_000_000)], [(1, 1_500_000)], [(1, 2_000_000)]),
        ([(1, 1_500_000)], [(1, 2_000_000)], [(1, 2_000_000)]),
        ([(1, 999_999)], [(0, 1_200_000)], [(0, 1_200_000)]),
        ([], [(3, 1_000_000)], []),
        ([(2, 1_100_000), (0, 1_300_000)], [], [(0, 1_300_000), (2, 1_100_000)]),
    ] as [([(Int, Int64)], [(Int, Int64)], [(Int, Int64)])])
    func theLaterEndOfEachProviderIsKeptUntilItEnds(stored: [(Int, Int64)], added: [(Int, Int64)], kept: [(Int, Int64)]) {
        let demotions = { (list: [(Int, Int64)]) in list.map { SharedDemotion(route: $0.0, until: $0.1, reason: "r\($0.0)") } }
        let merged = SharedDemotionRule.merged(demotions(stored), adding: demotions(added), at: Self.now)
        #expect(merged.map { [Int64($0.route), $0.until] } == kept.map { [Int64($0.0), $0.1] })
    }

    @Test func whatIsReadBackIsRangeChecked() {
        #expect(SharedDemotionRule.decode(nil).isEmpty)
        #expect(SharedDemotionRule.decode("not json").isEmpty)
        #expect(SharedDemotionRule.decode(#"{"route":1}"#).isEmpty)
        #expect(SharedDemotionRule.decode(#"[{"route":-1,"until":5,"reason":"x"},{"route":99999,"until":5,"reason":"x"}]"#).isEmpty)
        let long = String(repeating: "é", count: 500)
        let read = SharedDemotionRule.decode(#"[{"route":2,"until":9223372036854775807,"reason":"\#(long)"}]"#)
        #expect(read.count == 1 && read[0].route == 2 && read[0].until == .max && read[0].reason.count == SharedDemotionRule.maxReason)
        let list = [SharedDemotion(route: 0, until: 7, reason: "a \"quoted\" reason")]
        #expect(SharedDemotionRule.decode(SharedDemotionRule.encode(list)) == list)
    }

    @Test func aSenderTakesAnothersDemotionOnlyWhenItLastsLonger() {
        var health = ProviderHealth()
        let taken = health.adopt(until: Self.now + 30_000, why: "a request never reached it", at: Self.now)
        #expect(taken)
        #expect(health.isDemoted(at: Self.now + 29_999) && !health.isDemoted(at: Self.now + 30_000))
        #expect(health.reason == "a request never reached it")
        // Shorter, equal or already ended: nothing changes.
        let shorter = health.adopt(until: Self.now + 10_000, why: "x", at: Self.now)
        let equal = health.adopt(until: Self.now + 30_000, why: "x", at: Self.now)
        let ended = health.adopt(until: Self.now - 1, why: "x", at: Self.now)
        #expect(!shorter && !equal && !ended && health.reason == "a request never reached it")
        // Not counted as its own demotion: its first failure after the cool-down demotes it for
        // the first length again, not twice as long.
        #expect(health.demotions == 0)
        let until = health.record(.unreached, at: Self.now + 30_000)
        #expect(until == Self.now + 30_000 + health.policy.coolDown)
    }
}
