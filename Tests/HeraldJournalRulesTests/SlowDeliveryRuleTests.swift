import HeraldCore
import HeraldJournal
import Testing

/// The slow-delivery rule, as GOV.UK Notify measures it: a provider is slow when at least a share
/// of what it took in the window was not delivered in time; slow providers are demoted unless
/// every provider measured is slow.
@Suite struct SlowDeliveryRuleTests {
    static let policy = SlowDeliveryPolicy(window: 15 * 60_000, deliveredWithin: 5 * 60_000, share: 0.15, minimum: 4)
    static let now: Int64 = 100 * 60_000

    /// `fast` delivered in a minute, `late` delivered after six, `waiting` sent seven minutes ago
    /// with no receipt, `young` sent a minute ago with no receipt (not judged yet).
    static func samples(fast: Int, late: Int, waiting: Int = 0, young: Int = 0) -> [DeliverySample] {
        let sent = now - 10 * 60_000
        return Array(repeating: DeliverySample(sentAt: sent, finalAt: sent + 60_000), count: fast)
            + Array(repeating: DeliverySample(sentAt: sent, finalAt: sent + 6 * 60_000), count: late)
            + Array(repeating: DeliverySample(sentAt: now - 7 * 60_000, finalAt: nil), count: waiting)
            + Array(repeating: DeliverySample(sentAt: now - 60_000, finalAt: nil), count: young)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let samples: [DeliverySample]
        let judged: Int
        let slow: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "all fast", samples: samples(fast: 10, late: 0), judged: 10, slow: 0),
        Case(name: "late receipts", samples: samples(fast: 8, late: 2), judged: 10, slow: 2),
        Case(name: "no receipt after the limit is slow", samples: samples(fast: 8, late: 0, waiting: 2), judged: 10, slow: 2),
        Case(name: "no receipt yet within the limit is not judged", samples: samples(fast: 8, late: 0, young: 5), judged: 8, slow: 0),
        Case(name: "outside the window is left out",
             samples: [DeliverySample(sentAt: now - 16 * 60_000, finalAt: nil)] + samples(fast: 3, late: 0), judged: 3, slow: 0),
    ]

    @Test(arguments: cases)
    func measure(_ test: Case) {
        let measure = SlowDeliveryRule.measure(test.samples, at: Self.now, policy: Self.policy)
        #expect(measure.judged == test.judged && measure.slow == test.slow)
    }

    @Test func aSlowProviderIsDemotedOnlyWhenAnotherIsNot() {
        // 2 of 10 (20%) is slow at a 15% share; 1 of 10 is not.
        var verdict = SlowDeliveryRule.slow([0: Self.samples(fast: 9, late: 1), 1: Self.samples(fast: 8, late: 2)],
                                            at: Self.now, policy: Self.policy)
        #expect(Array(verdict.keys) == [1])
        #expect(verdict[1]?.contains("2 of 10 messages taken in the last 15 min were not delivered within 5 min") == true, "\(verdict)")
        // Every provider slow: none is better, none is demoted.
        verdict = SlowDeliveryRule.slow([0: Self.samples(fast: 5, late: 5), 1: Self.samples(fast: 8, late: 2)], at: Self.now, policy: Self.policy)
        #expect(verdict.isEmpty)
        // One provider judged: nothing to compare with.
        verdict = SlowDeliveryRule.slow([0: Self.samples(fast: 0, late: 0, young: 9), 1: Self.samples(fast: 5, late: 5)],
                                        at: Self.now, policy: Self.policy)
        #expect(verdict.isEmpty)
        // Too few judged messages: not judged.
        verdict = SlowDeliveryRule.slow([0: Self.samples(fast: 9, late: 0), 1: Self.samples(fast: 1, late: 2)], at: Self.now, policy: Self.policy)
        #expect(verdict.isEmpty)
        // A provider with no receipt at all in the window (receipts not set up?) is not judged.
        verdict = SlowDeliveryRule.slow([0: Self.samples(fast: 9, late: 0), 1: Self.samples(fast: 0, late: 0, waiting: 9), 2: Self.samples(fast: 2, late: 5)],
                                        at: Self.now, policy: Self.policy)
        #expect(Array(verdict.keys) == [2])
    }

    @Test func aSlowDemotionLastsItsCoolDownAndIsNotRenewedMeanwhile() {
        var health = ProviderHealth(policy: FailoverPolicy(coolDown: 30_000))
        #expect(health.demoteSlow("slow", at: 1_000) == 31_000)
        #expect(health.demoteSlow("slow", at: 2_000) == nil)
        #expect(health.isDemoted(at: 30_999) && !health.isDemoted(at: 31_000))
        // Slow again after the cool-down: twice as long.
        #expect(health.demoteSlow("slow", at: 31_000) == 91_000)
    }
}
