import HeraldCore
import HeraldJournal
import Testing

/// When an RCS row may go as SMS through another provider, and what the move does to the
/// counters, as values.
@Suite struct RCSFallbackRuleTests {
    static func candidate(state: MessageState = .sent, route: Int = 0, delivery: DeliveryState? = .undelivered,
                          price: Int64? = 4_000_000, read: Bool = false) -> FallbackCandidate {
        FallbackCandidate(row: 7, route: route, state: state, body: "{}", region: "US", signal: "RCS_FAILED", cost: 10_000_000,
                          sentAt: 120_000, delivery: delivery, code: "FAILED", price: price, eventAt: 180_000, read: read)
    }

    /// Only a row still sent on the route it would leave, whose delivery failed for good, moves.
    @Test(arguments: [
        (MessageState.sent, 0, DeliveryState?.some(.undelivered), true),
        (.sent, 0, .some(.expired), true),
        (.sent, 1, .some(.undelivered), false),  // already moved (or on another route)
        (.sent, 0, .some(.delivered), false),
        (.sent, 0, .some(.fallback), false),
        (.sent, 0, .some(.pending), false),
        (.sent, 0, .some(.unknown), false),
        (.sent, 0, nil, false),
        (.retry, 0, .some(.undelivered), false),
        (.inDoubt, 0, .some(.undelivered), false),
        (.failed, 0, .some(.undelivered), false),
        (.skipped, 0, .some(.undelivered), false),
    ])
    func aRowMovesOnlyWhileSentThereWithAFailedDelivery(state: MessageState, route: Int, delivery: DeliveryState?, moves: Bool) {
        #expect(RCSFallbackRule.mayMove(Self.candidate(state: state, route: route, delivery: delivery), from: 0) == moves)
    }

    /// The row leaves sent for retry (rcs_fallback) at its SMS cost, and its delivery leaves every
    /// counter it was in; the ledger is left alone (the RCS attempt stays spent).
    @Test func theMoveTakesTheDeliveryBackFromEveryCounter() {
        let candidate = Self.candidate(read: true)
        let move = FallbackMove(row: 7, from: 0, to: 1, parts: 2, cost: 15_800_000, signal: "RCS_FAILED", detail: "")
        var changes = ReceiptChanges()
        changes.fellBack(candidate, move, cid: 3, at: 600_000)
        #expect(changes.tally[3]?.deltas == [TallyKey(.sent): -1, TallyKey(.retry, .rcsFallback): 1])
        #expect(changes.ledger.isEmpty)
        let delivery = changes.delivery.deltas
        #expect(delivery[.init(cid: 3, state: "undelivered", code: "FAILED")] == -1)
        #expect(delivery[.init(cid: 3, state: "read", code: "")] == -1)
        #expect(delivery[.init(cid: 3, state: "price", code: "")] == -4_000_000)
        let report = changes.report[3]
        let country = report?.countries["US"]
        // Sent, spent and the reported price go; the estimate is the SMS's now.
        #expect(country?.sent == -1 && country?.spent == -10_000_000 && country?.estimated == 5_800_000)
        #expect(country?.reported == -4_000_000 && country?.priced == -1)
        #expect(report?.minutes[ReportCounters.minute(of: 120_000)]?.sent == -1)
        #expect(move.routeMove == RouteMove(from: 0, to: 1, parts: 2, cost: 15_800_000, reason: "rcs_failed: RCS_FAILED"))
    }

    /// Once a row fell back, events about its RCS attempt change nothing; its SMS's still count.
    @Test func aRowThatFellBackIgnoresOnlyRCSEvents() {
        var target = ReceiptTarget(cid: 1, row: 7, state: .retry, reason: "rcs_fallback", cost: 1, spendMonth: nil, attemptAt: 0,
                                   doubt: nil, region: "US", delivery: nil)
        var rcs = DeliveryEvent(source: ReceiptSource("aws"), type: "RCS_FAILED", match: .none, state: .undelivered, raw: "")
        rcs.channel = .rcs
        var text = DeliveryEvent(source: ReceiptSource("aws"), type: "TEXT_DELIVERED", match: .none, state: .delivered, raw: "")
        text.channel = .sms
        #expect(!RCSFallbackRule.ignores(rcs, for: target))
        target.fellBack = true
        #expect(RCSFallbackRule.ignores(rcs, for: target))
        #expect(!RCSFallbackRule.ignores(text, for: target))
        let twilio = DeliveryEvent(source: ReceiptSource("twilio"), type: "delivered", match: .none, state: .delivered, raw: "")
        #expect(!RCSFallbackRule.ignores(twilio, for: target))
    }
}
