import HeraldCore
import HeraldJournal
import Testing

/// The settlement rule, case by case, without a database.
@Suite struct SettlementRuleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let settlement: Settlement
        let doubt: String?
        let state: MessageState
        let reason: String?
        let ledger: LedgerDelta?
        let keepsReservation: Bool
        let suppressed: Bool
        var testDescription: String { name }
    }

    static func outcome(_ state: MessageState, _ reason: Reason? = nil, detail: String? = nil, cost: Int64 = 10) -> Settlement {
        var settlement = Settlement(row: 7, state: state, reason: reason, detail: detail)
        settlement.cost = cost
        settlement.month = 202612
        return settlement
    }

    static let cases: [Case] = [
        Case(name: "accepted: reservation becomes spend", settlement: outcome(.sent), doubt: nil, state: .sent, reason: nil,
             ledger: LedgerDelta(month: 202612, reserved: -10, spent: 10), keepsReservation: true, suppressed: false),
        Case(name: "rejected: released", settlement: outcome(.failed, .rejected), doubt: nil, state: .failed, reason: "rejected",
             ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0), keepsReservation: false, suppressed: false),
        Case(name: "rejected after a doubt: proof wins", settlement: outcome(.failed, .rejected), doubt: "interrupted",
             state: .failed, reason: "rejected", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0),
             keepsReservation: false, suppressed: false),
        Case(name: "transient out of attempts, no doubt: failed", settlement: outcome(.failed, .transient), doubt: nil,
             state: .failed, reason: "transient", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0),
             keepsReservation: false, suppressed: false),
        Case(name: "transient after a lost answer: stays in doubt, reservation kept", settlement: outcome(.failed, .transient),
             doubt: "lost_answer", state: .inDoubt, reason: "lost_answer", ledger: nil, keepsReservation: true, suppressed: false),
        Case(name: "lost answer: in doubt, kept", settlement: outcome(.inDoubt, .lostAnswer), doubt: nil, state: .inDoubt,
             reason: "lost_answer", ledger: nil, keepsReservation: true, suppressed: false),
        Case(name: "throttled: retry, released", settlement: outcome(.retry, .throttled), doubt: nil, state: .retry,
             reason: "throttled", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0), keepsReservation: false,
             suppressed: false),
        Case(name: "spend limit: back to pending, released", settlement: outcome(.pending, .spendLimit), doubt: nil,
             state: .pending, reason: "spend_limit", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0),
             keepsReservation: false, suppressed: false),
        Case(name: "opted out: failed and listed", settlement: outcome(.failed, .optedOut), doubt: nil, state: .failed,
             reason: "opted_out", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0), keepsReservation: false,
             suppressed: true),
        Case(name: "opted out after a doubt: still listed", settlement: outcome(.failed, .optedOut), doubt: "interrupted",
             state: .failed, reason: "opted_out", ledger: LedgerDelta(month: 202612, reserved: -10, spent: 0),
             keepsReservation: false, suppressed: true),
        Case(name: "free message: no ledger change", settlement: outcome(.sent, cost: 0), doubt: nil, state: .sent, reason: nil,
             ledger: nil, keepsReservation: true, suppressed: false),
    ]

    @Test(arguments: cases)
    func transition(_ item: Case) {
        let change = item.settlement.change(doubt: item.needsDoubtFact ? item.doubt : nil, at: 0)
        #expect(change.state == item.state)
        #expect(change.reason == item.reason)
        #expect(change.ledger == item.ledger)
        #expect(change.keepsReservation == item.keepsReservation)
        #expect((change.suppression == .optedOut) == item.suppressed)
        #expect(change.from == TallyKey(.sending))
        #expect(change.to == TallyKey(item.state, code: item.reason))
        #expect(change.putsBack == (item.state == .pending))
    }

    @Test func doubtIsReadOnlyForFailuresThatProveNothing() {
        #expect(Self.outcome(.failed, .transient).needsDoubt)
        #expect(Self.outcome(.failed, .throttled).needsDoubt)
        #expect(!Self.outcome(.failed, .rejected).needsDoubt)
        #expect(!Self.outcome(.failed, .optedOut).needsDoubt)
        #expect(!Self.outcome(.sent).needsDoubt)
        #expect(!Self.outcome(.retry, .transient).needsDoubt)
    }

    @Test func keptDoubtExplainsItself() {
        let change = Self.outcome(.failed, .transient, detail: "503").change(doubt: "interrupted", at: 0)
        #expect(change.detail == "an earlier attempt may have been delivered (interrupted); then 503")
        let bare = Self.outcome(.failed, .transient).change(doubt: "lost_answer", at: 0)
        #expect(bare.detail == "an earlier attempt may have been delivered (lost_answer); then transient")
    }

    @Test func aLostAnswerIsRememberedAsTheRowsDoubt() {
        #expect(Self.outcome(.inDoubt, .lostAnswer).change(at: 0).doubt == "lost_answer")
        #expect(Self.outcome(.retry, .lostAnswer).change(at: 0).doubt == "lost_answer")
        #expect(Self.outcome(.retry, .transient).change(at: 0).doubt == nil)
        #expect(Self.outcome(.sent).change(at: 0).doubt == nil)
    }

    /// A lost answer sent again with the same idempotency key: the provider bills it once,
    /// whichever attempt got through, so its reservation is counted as spent now and the
    /// resend is free. Released, the budget gave it away before a receipt for the first
    /// attempt spent it (past the campaign limit). A free resend's own lost answer moves nothing.
    @Test func aLostAnswerResentAsIsIsCountedSpentAndTheResendIsFree() {
        let change = Self.outcome(.retry, .lostAnswer).change(at: 0)
        #expect(change.state == .retry && change.reason == "lost_answer" && !change.keepsReservation)
        #expect(change.ledger == LedgerDelta(month: 202612, reserved: -10, spent: 10))
        #expect(change.earlierSpent == EarlierSpend.resendIsFree)
        var free = Self.outcome(.retry, .lostAnswer)
        free.reserved = 0
        #expect(free.change(at: 0).ledger == nil && free.change(at: 0).earlierSpent == nil)
        #expect(Self.outcome(.retry, .lostAnswer, cost: 0).change(at: 0).earlierSpent == nil)
        #expect(Self.outcome(.retry, .transient).change(at: 0).earlierSpent == nil)
        #expect(Self.outcome(.retry, .transient).change(at: 0).ledger == LedgerDelta(month: 202612, reserved: -10, spent: 0))
    }

    @Test func attemptsCountUnlessTheAnswerSaysNot() {
        #expect(Self.outcome(.sent).change(at: 0).attempts == 1)
        let throttled = Settlement(row: 1, state: .retry, reason: .throttled, notBefore: 5, countsAttempt: false)
        #expect(throttled.change(at: 0).attempts == 0)
        #expect(throttled.change(at: 0).notBefore == 5)
    }

    /// A row handed back unsent (its sender stopped, or its lease check failed) goes back to
    /// `pending`, its reservation released; a free resend (its cost counted when it was made
    /// due again, nothing reserved) stays due as `retry`, so the next claim takes it ahead of
    /// new rows and whatever the budget says (journey seed 10112 stranded such rows in
    /// `pending` behind a spent budget).
    @Test func aFreeResendHandedBackStaysDue() {
        var paid = Settlement(row: 3, state: .pending, countsAttempt: false)
        paid.cost = 10
        paid.reserved = 10
        paid.month = 202612
        let released = paid.change(at: 500)
        #expect(released.state == .pending && released.putsBack)
        #expect(released.ledger == LedgerDelta(month: 202612, reserved: -10, spent: 0))

        var free = paid
        free.reserved = 0
        let due = free.change(at: 500)
        #expect(due.state == .retry && !due.putsBack)
        #expect(due.reason == Reason.interrupted.rawValue && due.notBefore == 500)
        #expect(due.ledger == nil && !due.keepsReservation && due.attempts == 0)
        #expect(due.to == TallyKey(.retry, .interrupted))

        // A free row that was answered is settled as the answer says.
        var answered = Settlement(row: 3, state: .sent)
        answered.cost = 10
        answered.reserved = 0
        #expect(answered.change(at: 500).state == .sent)
    }
}

extension SettlementRuleTests.Case {
    var needsDoubtFact: Bool { settlement.needsDoubt }
}
