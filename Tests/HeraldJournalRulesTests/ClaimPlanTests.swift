import HeraldCore
import HeraldJournal
import Testing

/// The claim rule, case by case, without a database.
@Suite struct ClaimPlanTests {
    static func candidate(_ row: Int, cost: Int64 = 1_000, zone: String? = nil, from: TallyKey = TallyKey(.pending)) -> ClaimCandidate {
        ClaimCandidate(row: row, destination: 15_550_100 + UInt64(row), body: "hi", attempts: 0, parts: 1, cost: cost,
                       timeZones: zone, from: from)
    }

    static let time: Int64 = 1_796_000_000_000

    @Test func withoutLimitsEveryRowIsClaimedAndReserved() {
        var plan = ClaimPlan(budget: nil, time: Self.time)
        for row in 2...5 { #expect(plan.consider(Self.candidate(row), suppressed: false) == .claim) }
        #expect(plan.claimedCount == 4)
        #expect(plan.reserved == 4_000)
        #expect(plan.tally.deltas == [TallyKey(.pending): -4, TallyKey(.sending): 4])
        #expect(plan.month == BillingMonth.of(milliseconds: Self.time))
    }

    @Test func checksComeInOrderSuppressedCappedWindowPriceBudget() {
        let budget = BudgetContext(limits: BudgetLimits(maxPrice: Money(nanos: 5_000), campaignLimit: Money(nanos: 10_000)),
                                   channel: .sms)
        var asked = 0
        var plan = ClaimPlan(budget: budget, campaignSpent: 8_000, time: Self.time) { zone, _ in zone == "closed" ? 42 : nil }
        func capped(_ answer: Bool) -> Bool {
            asked += 1
            return answer
        }
        #expect(plan.consider(Self.candidate(2, cost: 99_000, zone: "closed"), suppressed: true, capped: capped(true)) == .skip(.suppressed))
        #expect(asked == 0, "a suppressed row is not looked up in the contact history")
        #expect(plan.consider(Self.candidate(3, cost: 99_000, zone: "closed"), suppressed: false, capped: capped(true)) == .skip(.frequencyCap))
        #expect(plan.consider(Self.candidate(4, cost: 99_000, zone: "closed"), suppressed: false) == .deferUntil(42))
        #expect(plan.consider(Self.candidate(5, cost: 6_000), suppressed: false) == .skip(.maxPrice))
        #expect(plan.consider(Self.candidate(6, cost: 2_000), suppressed: false) == .claim)
        #expect(plan.consider(Self.candidate(7, cost: 1), suppressed: false) == .stop(.campaign))
        #expect(plan.exhausted == .campaign)
        #expect(plan.reserved == 2_000)
        let (skipped, deferred) = plan.takeSkipsAndDeferrals()
        #expect(skipped.map(\.reason) == [.suppressed, .frequencyCap, .maxPrice])
        #expect(skipped.last?.detail == "costs 0.000006000 USD, more than max_price")
        #expect(deferred == [ClaimPlan.Deferral(row: 4, from: TallyKey(.pending), opens: 42)])
        var result = StepResult()
        plan.record(into: &result)
        #expect(result.suppressed == 1 && result.capped == 1 && result.deferred == 1 && result.overMaxPrice == 1)
        #expect(result.exhausted == .campaign)
        #expect(plan.tally.deltas == [
            TallyKey(.pending): -5, TallyKey(.skipped, .suppressed): 1, TallyKey(.skipped, .frequencyCap): 1,
            TallyKey(.retry, .window): 1, TallyKey(.skipped, .maxPrice): 1, TallyKey(.sending): 1,
        ])
        #expect(plan.takeSkipsAndDeferrals().skipped.isEmpty, "handed over once")
    }

    @Test func retriesLeaveTheirOwnCounter() {
        var plan = ClaimPlan(budget: nil, time: Self.time)
        let throttled = TallyKey(.retry, .throttled)
        #expect(plan.consider(Self.candidate(9, from: throttled), suppressed: false) == .claim)
        #expect(plan.consider(Self.candidate(2), suppressed: false) == .claim)
        #expect(plan.consider(Self.candidate(3), suppressed: false) == .claim)
        #expect(plan.tally.deltas == [throttled: -1, TallyKey(.pending): -2, TallyKey(.sending): 3])
        #expect(plan.claimedCount == 3)
    }

    @Test(arguments: [(Int64(0), "0.000000000"), (1, "0.000000001"), (60_000_000, "0.060000000"), (12_345_000_000_001, "12345.000000001")])
    func pricesAreWrittenWithNineDecimals(_ nanos: Int64, _ text: String) {
        var plan = ClaimPlan(budget: BudgetContext(limits: BudgetLimits(maxPrice: Money(nanos: -1)), channel: .sms), time: Self.time)
        plan.consider(Self.candidate(2, cost: nanos), suppressed: false)
        #expect(plan.takeSkipsAndDeferrals().skipped.first?.detail == "costs \(text) USD, more than max_price")
    }

    @Test func theMonthlyLimitCountsEveryCampaignsSpend() {
        let budget = BudgetContext(limits: BudgetLimits(monthlyLimit: Money(nanos: 3_000)), channel: .sms)
        var plan = ClaimPlan(budget: budget, campaignSpent: 0, monthSpent: 2_500, time: Self.time)
        #expect(plan.consider(Self.candidate(2, cost: 500), suppressed: false) == .claim)
        #expect(plan.consider(Self.candidate(3, cost: 1), suppressed: false) == .stop(.monthly))
    }

    @Test func bulkRulesSayWhereRowsGo() {
        let died = BulkRule.Interruption(resend: false, cause: .processDied)
        #expect(died.state == .inDoubt && died.keepsReservation && died.notBefore == nil)
        #expect(died.ledger(cost: 5, month: 202612) == nil)
        #expect(died.move(3).deltas == [TallyKey(.sending): -3, TallyKey(.inDoubt, .interrupted): 3])
        let resent = BulkRule.Interruption(resend: true, cause: .leaseExpired)
        #expect(resent.state == .retry && !resent.keepsReservation && resent.notBefore == 0)
        // Its first request may have been delivered: counted as spent, and the resend is free.
        #expect(resent.ledger(cost: 5, month: 202612) == LedgerDelta(month: 202612, reserved: -5, spent: 5))
        #expect(resent.earlierSpent == EarlierSpend.resendIsFree && died.earlierSpent == nil)
        #expect(resent.detail != died.detail)
        let dedupes = BulkRule.ResendInDoubt(providerDedupes: true)
        let plain = BulkRule.ResendInDoubt(providerDedupes: false)
        #expect(dedupes.ledger(cost: 5, month: 1) == LedgerDelta(month: 1, reserved: -5, spent: 5))
        #expect(dedupes.earlierSpent == EarlierSpend.resendIsFree && plain.earlierSpent == EarlierSpend.resendCostsAgain)
        // A free resend is claimed without a reservation, whatever the budget says.
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money(nanos: 10)), channel: .sms)
        var full = ClaimPlan(budget: budget, campaignSpent: 10, time: Self.time)
        let free = ClaimCandidate(row: 2, destination: 15_550_100, body: "", attempts: 1, parts: 1, cost: 5, timeZones: nil,
                                  from: TallyKey(.retry, .interrupted), earlierSpent: EarlierSpend.resendIsFree)
        #expect(full.consider(free, suppressed: false) == .claim && full.reserved == 0)
        #expect(free.claimed(month: 1).reserved == 0 && free.claimed(month: 1).cost == 5)
        let again = ClaimCandidate(row: 3, destination: 15_550_101, body: "", attempts: 1, parts: 1, cost: 5, timeZones: nil,
                                   from: TallyKey(.retry, .interrupted), earlierSpent: EarlierSpend.resendCostsAgain)
        #expect(full.consider(again, suppressed: false) == .stop(.campaign))
        #expect(plain.ledger(cost: 5, month: 1) == LedgerDelta(month: 1, reserved: -5, spent: 5))
        #expect(plain.ledger(cost: 5, month: nil) == nil)
        #expect(plain.move(reason: "lost_answer", 2).deltas == [TallyKey(.inDoubt, .lostAnswer): -2, TallyKey(.retry, .lostAnswer): 2])
        #expect(BulkRule.startedStates == [.sending, .sent, .failed, .retry, .inDoubt])
    }
}
