import HeraldCore
import HeraldJournal
import Testing

/// The lease rule and fencing, without a database: how long a sender may send on its last
/// heartbeat, and what an outcome from a lost claim may still record.
@Suite struct LeaseRuleTests {
    @Test func theTermRunsFromTheHeartbeatsStartLessTheMargin() {
        #expect(LeaseTerm.margin(for: .seconds(5)) == .milliseconds(500))
        #expect(LeaseTerm.margin(for: .seconds(30)) == .seconds(3))
        #expect(LeaseTerm.margin(for: .seconds(120)) == .seconds(5))
        #expect(LeaseTerm.margin(for: .milliseconds(500)) == .milliseconds(100))
        var term = LeaseTerm(timeout: .seconds(5))
        let start = ContinuousClock.now
        #expect(!term.allowsRequest(at: start), "nothing is sent before the first renewal")
        term.renewed(startedAt: start)
        #expect(term.allowsRequest(at: start + .milliseconds(4_499)))
        #expect(!term.allowsRequest(at: start + .milliseconds(4_500)))
        // A renewal that started earlier than the last one never shortens the term.
        term.renewed(startedAt: start - .seconds(2))
        #expect(term.validUntil == start + .milliseconds(4_500))
        term.renewed(startedAt: start + .seconds(3))
        #expect(term.allowsRequest(at: start + .milliseconds(7_499)) && !term.allowsRequest(at: start + .milliseconds(7_500)))
        term.lost()
        #expect(!term.allowsRequest(at: start + .seconds(3)))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let outcome: MessageState
        let rowState: MessageState
        let rowEpoch: Int64?
        let verdict: Fencing.Verdict
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "still claimed by this epoch", outcome: .failed, rowState: .sending, rowEpoch: 7, verdict: .settle),
        Case(name: "claimed again by a newer epoch", outcome: .sent, rowState: .sending, rowEpoch: 8, verdict: .ignore),
        Case(name: "taken over, accepted late", outcome: .sent, rowState: .inDoubt, rowEpoch: 7, verdict: .acceptLate),
        Case(name: "taken over and due again, accepted late", outcome: .sent, rowState: .retry, rowEpoch: 7, verdict: .acceptLate),
        Case(name: "taken over, a failure proves nothing", outcome: .failed, rowState: .inDoubt, rowEpoch: 7, verdict: .ignore),
        // Due again and held by nobody: resent by hand, or (seed 10112) claimed by a newer sender
        // as a free resend and handed back unsent. The frozen sender's answer says it went.
        Case(name: "resent by hand or handed back, accepted late", outcome: .sent, rowState: .retry, rowEpoch: nil,
             verdict: .acceptLate),
        Case(name: "taken over again from a newer claim, accepted late", outcome: .sent, rowState: .inDoubt, rowEpoch: 8,
             verdict: .acceptLate),
        Case(name: "due again, a failure proves nothing", outcome: .failed, rowState: .retry, rowEpoch: nil, verdict: .ignore),
        Case(name: "already settled by a newer epoch", outcome: .sent, rowState: .sent, rowEpoch: 8, verdict: .ignore),
        Case(name: "settled by a receipt", outcome: .sent, rowState: .sent, rowEpoch: nil, verdict: .ignore),
    ]

    @Test(arguments: cases)
    func verdicts(_ c: Case) {
        #expect(Fencing.verdict(outcome: c.outcome, epoch: 7, rowState: c.rowState, rowEpoch: c.rowEpoch) == c.verdict)
    }

    static func facts(_ state: MessageState, epoch: Int64?, spendMonth: Int?) -> Fencing.RowFacts {
        Fencing.RowFacts(state: state, reason: "interrupted", epoch: epoch, spendMonth: spendMonth, cost: 50, region: "GB",
                         updatedAt: 1_000)
    }

    @Test func aLateAcceptanceSpendsWhatTheTakeoverKeptOrReleased() throws {
        let accepted = Settlement(row: 9, state: .sent, providerRef: "m-9")
        let time: Int64 = 1_780_000_000_000
        let kept = try #require(Fencing.lateChange(accepted, epoch: 7, row: Self.facts(.inDoubt, epoch: 7, spendMonth: 202612), time: time))
        #expect(kept.state == .sent && kept.providerRef == "m-9" && kept.detail == Fencing.lateDetail)
        #expect(kept.from == TallyKey(.inDoubt, code: "interrupted") && kept.to == TallyKey(.sent))
        #expect(kept.ledger == LedgerDelta(month: 202612, reserved: -50, spent: 50), "the kept reservation becomes spend")
        #expect(kept.report == ReportMove(region: "GB", cost: 50, from: .inDoubt, at: 1_000, to: .sent, at: time))
        let released = try #require(Fencing.lateChange(accepted, epoch: 7, row: Self.facts(.retry, epoch: 7, spendMonth: nil), time: time))
        #expect(released.ledger == LedgerDelta(month: BillingMonth.of(milliseconds: time), reserved: 0, spent: 50),
                "released by the takeover: spent now")
        // In doubt from a newer claim: whichever request the provider accepted, the row went once,
        // and the reservation it holds is what it costs.
        let newer = try #require(Fencing.lateChange(accepted, epoch: 7, row: Self.facts(.inDoubt, epoch: 8, spendMonth: 202612), time: time))
        #expect(newer.state == .sent && newer.ledger == LedgerDelta(month: 202612, reserved: -50, spent: 50))
        // Handed back unsent by a free resend: its first attempt was counted as spent.
        var counted = Self.facts(.retry, epoch: nil, spendMonth: nil)
        counted.earlierSpent = true
        let free = try #require(Fencing.lateChange(accepted, epoch: 7, row: counted, time: time))
        #expect(free.state == .sent && free.ledger == nil, "spent once, when the takeover counted it")
        #expect(Fencing.lateChange(accepted, epoch: 7, row: Self.facts(.sending, epoch: 8, spendMonth: 202612), time: time) == nil,
                "a newer claim's own answer settles a row it holds")
    }

    @Test func aRowGivenBackUnsentLeavesDoubt() throws {
        let unsent = Settlement(row: 9, state: .pending, countsAttempt: false)
        let back = try #require(Fencing.lateChange(unsent, epoch: 7, row: Self.facts(.inDoubt, epoch: 7, spendMonth: 202612), time: 5))
        #expect(back.state == .pending && back.putsBack && back.to == TallyKey(.pending))
        #expect(back.ledger == LedgerDelta(month: 202612, reserved: -50, spent: 0), "its reservation is released")
        // Already due again (a provider that dedupes), resent by hand, or a failure: nothing.
        #expect(Fencing.lateChange(unsent, epoch: 7, row: Self.facts(.retry, epoch: 7, spendMonth: nil), time: 5) == nil)
        #expect(Fencing.lateChange(unsent, epoch: 7, row: Self.facts(.inDoubt, epoch: nil, spendMonth: 202612), time: 5) == nil)
        let failed = Settlement(row: 9, state: .failed, reason: .transient)
        #expect(Fencing.lateChange(failed, epoch: 7, row: Self.facts(.inDoubt, epoch: 7, spendMonth: 202612), time: 5) == nil)
    }

    /// Random histories with freezes: a sender claims rows, sends some, freezes; its lease
    /// expires and the rows are taken over (in doubt), sometimes resent by hand and sent by a
    /// newer claim; the frozen sender wakes, sends nothing (its term is over), and its
    /// outcomes arrive. Whatever the order: every row the provider accepted ends `sent`, no
    /// row the provider never saw ends `sent`, and a second request for a row happens only
    /// when a person resent a row whose first request was already out.
    @Test(arguments: 1...200)
    func freezesNeverSendUnheldRowsAndLateEvidenceCounts(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let timeout = Duration.seconds(5)
        var term = LeaseTerm(timeout: timeout)
        let start = ContinuousClock.now
        term.renewed(startedAt: start)
        let rows = Array(2...(2 + Int(random.next() % 12)))
        var state: [Int: MessageState] = Dictionary(uniqueKeysWithValues: rows.map { ($0, .sending) })
        var epoch: [Int: Int64?] = Dictionary(uniqueKeysWithValues: rows.map { ($0, 7) })
        var accepted: [Int: Int] = [:]
        // Before the freeze the sender sends a prefix (its requests reach the provider).
        let sentBefore = Set(rows.prefix(Int(random.next() % UInt64(rows.count + 1))))
        for row in sentBefore { accepted[row, default: 0] += 1 }
        // Frozen past the lease: the rows are taken over, in doubt, their epoch kept.
        let thaw = start + timeout + .seconds(Int64(random.next() % 10))
        for row in rows { state[row] = .inDoubt }
        var resentByHand: Set<Int> = []
        if random.next() % 2 == 0 {
            // `resume --resend-in-doubt`: due again, custody gone; a newer claim sends them.
            for row in rows {
                state[row] = .sent
                epoch[row] = 8
                accepted[row, default: 0] += 1
                resentByHand.insert(row)
            }
        }
        // The sender wakes: it checks its term before every request, so it sends nothing;
        // the rest of its batch is given back, and the answers to what it sent arrive.
        #expect(!term.allowsRequest(at: thaw))
        for row in rows {
            let outcome = sentBefore.contains(row) ? Settlement(row: row, state: .sent, providerRef: "m")
                : Settlement(row: row, state: .pending, countsAttempt: false)
            let facts = Fencing.RowFacts(state: state[row]!, reason: "interrupted", epoch: epoch[row]!, spendMonth: 202612, cost: 1,
                                         region: nil, updatedAt: 0)
            if let change = Fencing.lateChange(outcome, epoch: 7, row: facts, time: 1) { state[row] = change.state }
        }
        for row in rows {
            let times = accepted[row] ?? 0
            #expect((times > 0) == (state[row] == .sent), "row \(row): accepted \(times)x, recorded \(String(describing: state[row]))")
            #expect(times <= 1 || (resentByHand.contains(row) && sentBefore.contains(row)), "row \(row) sent \(times)x")
            #expect(state[row] != .inDoubt, "row \(row): the sender's own evidence settles every doubt it caused")
        }
    }
}
