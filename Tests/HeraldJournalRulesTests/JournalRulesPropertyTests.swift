import HeraldCore
import HeraldJournal
import PropertyBased
import Testing

/// A journal in memory that does what both stores do: it reads facts, asks the rules and
/// applies their changes, guarded the same way (an outcome changes only a row still
/// `sending`). Random sequences of claims, answers, crashes, resends, cancels and listings
/// go through it, and the promises are checked after every step.
struct RuleModel {
    struct Row {
        let row: Int
        let destination: UInt64
        let cost: Int64
        var state = MessageState.pending
        var reason: String?
        var doubt: String?
        var month: Int?
        var everAccepted = false
        /// An earlier attempt's cost counted as spent when the row was made due again (the
        /// store's `earlier_spent`: `EarlierSpend`), and how much of it no sent row accounts for.
        var earlierSpent: Int64?
        var spentUnaccounted: Int64 = 0
        /// The claim that holds it: an answer to an older claim (a sender taken over) is fenced off.
        var epoch: Int64 = 0
    }

    var rows: [Row]
    var tally = TallyChanges()
    var ledger = LedgerDeltas()
    var listed: Set<UInt64> = []
    let budget: BudgetContext
    let limit: Int64
    let time: Int64 = 1_796_000_000_000

    init(costs: [Int64], limit: Int64) {
        rows = costs.enumerated().map { Row(row: $0.offset + 2, destination: 15_550_100 + UInt64($0.offset % 7), cost: $0.element) }
        self.limit = limit
        budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money(nanos: limit)), channel: .sms)
        for _ in rows { tally.add(TallyKey(.pending)) }
    }

    var claims: Int64 = 0

    var reservedAndSpent: Int64 { ledger.deltas.reduce(0) { $0 + $1.reserved + $1.spent } }

    mutating func claim(_ count: Int) -> [ClaimedMessage] {
        var plan = ClaimPlan(budget: budget, campaignSpent: reservedAndSpent, time: time)
        let retries = rows.indices.filter { rows[$0].state == .retry }
        let pending = rows.indices.filter { rows[$0].state == .pending }
        var taken: [ClaimedMessage] = []
        offering: for index in (retries + pending).prefix(count) {
            let row = rows[index]
            let candidate = ClaimCandidate(row: row.row, destination: row.destination, body: "", attempts: 0, parts: 1,
                                           cost: row.cost, timeZones: nil, from: TallyKey(row.state, code: row.reason),
                                           earlierSpent: row.earlierSpent)
            switch plan.consider(candidate, suppressed: listed.contains(row.destination)) {
            case .stop: break offering
            case .claim:
                claims += 1
                taken.append(candidate.claimed(month: plan.month, epoch: claims))
            case .skip, .deferUntil: break
            }
        }
        let (skipped, _) = plan.takeSkipsAndDeferrals()
        for skip in skipped {
            let index = skip.row - 2
            rows[index].state = .skipped
            rows[index].reason = skip.reason.rawValue
        }
        for claimed in taken {
            rows[claimed.row - 2].state = .sending
            rows[claimed.row - 2].epoch = claimed.epoch ?? 0
            // A free resend holds no reservation.
            rows[claimed.row - 2].month = claimed.holdsReservation ? plan.month : nil
        }
        tally.merge(plan.tally)
        ledger.add(LedgerDelta(month: plan.month, reserved: plan.reserved, spent: 0))
        return taken
    }

    mutating func settle(_ settlement: Settlement) {
        let index = settlement.row - 2
        guard rows[index].state == .sending, settlement.epoch == rows[index].epoch else { return }
        let change = settlement.change(doubt: settlement.needsDoubt ? rows[index].doubt : nil, at: 0)
        rows[index].state = change.state
        rows[index].reason = change.reason
        if let doubt = change.doubt { rows[index].doubt = doubt }
        if !change.keepsReservation { rows[index].month = nil }
        if let mark = change.earlierSpent { rows[index].earlierSpent = mark }
        let spentNow = change.ledger?.spent ?? 0
        if change.state == .sent {
            rows[index].everAccepted = true
            // What the answer did not spend now was counted when the row was made due again.
            rows[index].spentUnaccounted = max(0, rows[index].spentUnaccounted - (rows[index].cost - spentNow))
        } else {
            // Counted before the row is sent (a lost answer resent as is): no sent row accounts for it yet.
            rows[index].spentUnaccounted += spentNow
        }
        tally.move(from: change.from, to: change.to)
        ledger.add(change.ledger)
        if change.suppression != nil { listed.insert(rows[index].destination) }
    }

    mutating func interrupt(resend: Bool) {
        let rule = BulkRule.Interruption(resend: resend, cause: .leaseExpired)
        var count = 0
        for index in rows.indices where rows[index].state == .sending {
            let delta = rule.ledger(cost: rows[index].cost, month: rows[index].month)
            ledger.add(delta)
            if let mark = rule.earlierSpent, rows[index].month != nil { rows[index].earlierSpent = mark }
            rows[index].spentUnaccounted += delta?.spent ?? 0
            rows[index].state = rule.state
            rows[index].reason = rule.reason.rawValue
            rows[index].doubt = rule.doubt.rawValue
            if !rule.keepsReservation { rows[index].month = nil }
            count += 1
        }
        tally.merge(rule.move(count))
    }

    mutating func resendInDoubt(dedupes: Bool) {
        let rule = BulkRule.ResendInDoubt(providerDedupes: dedupes)
        for index in rows.indices where rows[index].state == .inDoubt {
            let delta = rule.ledger(cost: rows[index].cost, month: rows[index].month)
            ledger.add(delta)
            if rows[index].month != nil { rows[index].earlierSpent = rule.earlierSpent }
            rows[index].spentUnaccounted += delta?.spent ?? 0
            tally.merge(rule.move(reason: rows[index].reason, 1))
            rows[index].state = rule.state
            rows[index].month = nil
        }
    }

    /// A delivery receipt for the row's earlier attempt: it was accepted after all.
    mutating func receipt(_ index: Int) {
        let row = rows[index]
        var target = ReceiptTarget(cid: 1, row: row.row, state: row.state, reason: row.reason, cost: row.cost, spendMonth: row.month,
                                   attemptAt: time, doubt: row.doubt, earlierSpent: row.earlierSpent != nil, region: nil,
                                   delivery: nil)
        guard let month = ReceiptChanges.settlementMonth(of: target, time: time) else { return }
        var changes = ReceiptChanges()
        changes.settled(&target, month: month)
        tally.merge(changes.tally[1] ?? TallyChanges())
        for delta in changes.ledger[1]?.deltas ?? [] { ledger.add(delta) }
        rows[index].state = .sent
        rows[index].reason = nil
        rows[index].month = target.spendMonth
        rows[index].everAccepted = true
        // What the receipt did not spend now was counted when the row was resent: the sent
        // row accounts for it from here on.
        let spentNow = changes.ledger[1]?.deltas.reduce(0) { $0 + $1.spent } ?? 0
        rows[index].spentUnaccounted = max(0, row.spentUnaccounted - (row.cost - spentNow))
    }

    mutating func cancel() {
        for index in rows.indices where BulkRule.Cancellation.states.contains(rows[index].state) {
            let from = TallyKey(rows[index].state, code: rows[index].reason)
            if let doubt = rows[index].doubt {
                // It may have been delivered: in doubt, where a receipt can still settle it.
                tally.merge(BulkRule.Cancellation.moveDoubted(from: from, doubt: doubt, 1))
                rows[index].state = BulkRule.Cancellation.doubtedState
                rows[index].reason = doubt
            } else {
                tally.merge(BulkRule.Cancellation.move(from: from, 1))
                rows[index].state = BulkRule.Cancellation.state
                rows[index].reason = BulkRule.Cancellation.reason.rawValue
            }
        }
    }

    /// The promises, checked after every step.
    func check(_ step: String) {
        var recount = TallyChanges()
        for row in rows { recount.add(TallyKey(row.state, code: row.reason)) }
        #expect(tally.deltas.filter { $0.value != 0 } == recount.deltas, "counters equal a recount of the rows (\(step))")
        #expect(reservedAndSpent <= limit, "spend never passes the campaign limit (\(step))")
        let held = rows.filter { ($0.state == .sending || $0.state == .inDoubt) && $0.month != nil }.reduce(0) { $0 + $1.cost }
        #expect(ledger.deltas.reduce(0) { $0 + $1.reserved } == held, "reservations are exactly the rows that may cost (\(step))")
        let spent = rows.filter { $0.state == .sent }.reduce(0) { $0 + $1.cost }
        let counted = rows.reduce(0) { $0 + $1.spentUnaccounted }
        #expect(ledger.deltas.reduce(0) { $0 + $1.spent } == spent + counted, "spend is what was accepted (\(step))")
        for row in rows where row.everAccepted {
            #expect(row.state == .sent, "a row the provider accepted is never failed or sent again (\(step))")
        }
    }
}

@Suite struct JournalRulesPropertyTests {
    /// Outcomes a provider can give, as the engine turns them into settlements.
    static let outcomes: [(MessageState, Reason?)] = [
        (.sent, nil), (.failed, .rejected), (.failed, .transient), (.inDoubt, .lostAnswer), (.retry, .transient),
        (.retry, .throttled), (.pending, .spendLimit), (.failed, .optedOut), (.retry, .lostAnswer), (.failed, .badNumber),
    ]

    @Test func randomHistoriesKeepEveryPromise() async {
        let costs = Gen.int(in: 0...40).map { Int64($0) * 1_000 }.array(of: 1...24)
        let script = Gen.int(in: 0...9_999).array(of: 1...80)
        await propertyCheck(input: costs, Gen.int(in: 0...400), script) { costs, limit, script in
            Self.replay(costs: costs, limit: limit, script: script)
        }
    }

    /// The history CI's run found (shrunk): a lost answer resent with the same key released
    /// its reservation, the budget gave it to the next claim, then a receipt proved the
    /// first attempt delivered and spent it: 47,000 against a limit of 46,000.
    @Test func aReceiptForALostAnswerResentCannotPassTheLimit() {
        Self.replay(costs: [0, 0, 0, 3000, 0, 0, 1000, 40000], limit: 46,
                    script: [0, 693, 110, 0, 3033, 1693, 5818, 7583, 0, 518])
    }

    /// Runs one script through the model, checking every promise after each step: each code's
    /// last digit picks the event, the rest its argument.
    static func replay(costs: [Int64], limit: Int, script: [Int]) {
        var model = RuleModel(costs: costs, limit: Int64(limit) * 1_000)
        var inFlight: [ClaimedMessage] = []
        model.check("start")
        for code in script {
            let argument = code / 10
            switch code % 10 {
            case 0, 1, 2:
                inFlight += model.claim(argument % 6 + 1)
            case 3, 4, 5, 6:
                guard !inFlight.isEmpty else { continue }
                let claimed = inFlight.remove(at: argument % inFlight.count)
                let (state, reason) = Self.outcomes[argument % Self.outcomes.count]
                model.settle(Settlement(row: claimed.row, state: state, reason: reason).settling(claimed))
            case 7:
                // The sender froze or died: its rows are taken over; its answers, if any come, find
                // the rows no longer `sending` and change nothing.
                model.interrupt(resend: argument % 2 == 0)
                if argument % 3 == 0 { inFlight = [] }
            case 8:
                if argument % 3 == 0 {
                    // A receipt for a row whose earlier attempt may have got through.
                    let doubted = model.rows.indices.filter {
                        model.rows[$0].state == .inDoubt || (model.rows[$0].state == .retry && model.rows[$0].doubt != nil)
                    }
                    if !doubted.isEmpty { model.receipt(doubted[argument % doubted.count]) }
                } else {
                    model.resendInDoubt(dedupes: argument % 2 == 0)
                }
            default:
                if argument % 5 == 0 { model.cancel() } else { model.listed.insert(15_550_100 + UInt64(argument % 7)) }
            }
            model.check("after \(code)")
        }
    }
}
