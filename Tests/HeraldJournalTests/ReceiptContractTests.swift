import Foundation
import HeraldCore
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Testing

/// Delivery receipts on both stores: the same script of sends and events gives the same
/// delivery states, settlements, ledger, counters and suppression list; an event for a
/// row still being sent is kept and settles the row when its sender dies.
@Suite struct ReceiptContractTests {
    let at: Int64 = 1_780_000_000_000

    func event(_ type: String, _ match: DeliveryEvent.Match, _ state: DeliveryState?, source: ReceiptSource = .aws,
               read: Bool = false, code: String? = nil, price: Int64? = nil, invalid: Bool = false, offset: Int64 = 0) -> DeliveryEvent {
        var event = DeliveryEvent(source: source, type: type, match: match, state: state, read: read, code: code,
                                  detail: code.map { "carrier said \($0)" }, at: at + offset, price: price.map { Money(nanos: $0) },
                                  raw: "{\"type\":\"\(type)\"}")
        event.invalidNumber = invalid
        return event
    }

    @Test(arguments: Store.allCases)
    func theSameEventsGiveTheSameJournal(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let first = deadOwner()
        let journal = try fixture.openStore()
        let cid = cid(of: try openCampaign(journal, owner: first))
        try importRows(journal, cid: cid, numbers: numbers(8), cost: 5_000_000)
        try journal.setSuppressUndeliverable(cid: cid, true)
        let claimed = try step(journal, cid: cid, owner: first, claim: 6).claimed
        #expect(claimed.map(\.row) == [2, 3, 4, 5, 6, 7])
        let outcomes: [Int: Settlement] = [
            2: Settlement(row: 2, state: .sent, providerRef: "m-2"),
            3: Settlement(row: 3, state: .sent, providerRef: "m-3"),
            4: Settlement(row: 4, state: .inDoubt, reason: .lostAnswer, detail: "timeout"),
            5: Settlement(row: 5, state: .retry, reason: .transient, notBefore: 4_000_000_000_000),
        ]
        // Rows 6 and 7 stay `sending`: their sender is about to die.
        _ = try step(journal, cid: cid, owner: first, settle: claimed.compactMap { claim in outcomes[claim.row]?.settling(claim) },
                     claim: 0)

        let events = [
            event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered, price: 4_000_000, offset: 1_000),
            event("READ", .reference("m-2"), nil, read: true, offset: 2_000),
            event("TEXT_CARRIER_UNREACHABLE", .reference("m-3"), .undelivered, code: "UNREACHABLE", invalid: true),
            event("TEXT_DELIVERED", .row(campaign: "spring", row: 4, reference: nil), .delivered),
            event("TEXT_QUEUED", .row(campaign: "spring", row: 5, reference: nil), .pending),
            event("TEXT_DELIVERED", .row(campaign: "spring", row: 6, reference: nil), .delivered, offset: 500),
            event("TEXT_DELIVERED", .reference("no-such-message"), .delivered),
            // A late duplicate never moves a final state back.
            event("TEXT_QUEUED", .row(campaign: "spring", row: 2, reference: nil), .pending, offset: 3_000),
            DeliveryEvent(source: .agile, type: "INBOUND", match: .none, state: nil, raw: "{}",
                          reply: .init(from: "+447700900123", text: "stop please")),
        ]
        let result = try journal.recordReceipts(events, receivedAt: at + 5_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(result.matched == 7 && result.unmatched == 1 && result.settled == 2 && result.replies == 1, "\(result)")

        let counts = try journal.counts(cid: cid)
        #expect(counts[.sent] == 4 && counts[.sending] == 2 && counts[.inDoubt] == 0 && counts[.retry] == 0, "\(counts)")
        let delivery = try journal.deliverySummary(cid: cid)
        #expect(delivery[.delivered] == 3 && delivery[.undelivered] == 1 && delivery[.pending] == 1 && delivery.read == 1)
        #expect(delivery.undeliveredByCode == ["UNREACHABLE": 1])
        #expect(try journal.reportedCost(cid: cid) == Money(nanos: 4_000_000))
        // Row 4's reservation became spend; row 5 was released when it was put back to wait,
        // so it is spent now (in the month the receipt came); rows 6 and 7 stay reserved.
        let ledger = try journal.ledger(cid: cid)
        #expect(ledger.reduce(0) { $0 + $1.reserved.nanos } == 10_000_000 && ledger.reduce(0) { $0 + $1.spent.nanos } == 20_000_000,
                "\(ledger)")
        #expect(ledger.first { $0.month == BillingMonth.of(milliseconds: at) }?.spent == Money(nanos: 5_000_000))
        // The invalid number (row 3's) and the number that replied stop are listed.
        #expect(try journal.suppression(of: 447_700_900_002).map(\.source) == [.undeliverable])
        #expect(try journal.suppression(of: 447_700_900_123).map(\.source) == [.reply])
        #expect(try journal.unmatchedReceipts() == ["aws": 1])
        #expect(try journal.replyCounts() == ["agile": 1])
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")

        // The sender dies: its rows come back in doubt, and row 6, whose receipt came while
        // it was being sent, was accepted.
        if store == .postgres { Thread.sleep(forTimeInterval: 1.3) }
        let other = try fixture.openStore()
        guard case .ready(_, let inDoubt) = try openCampaign(other, owner: LeaseOwner()) else {
            Issue.record("an imported campaign opens ready")
            return
        }
        #expect(inDoubt == 1)
        let after = try other.counts(cid: cid)
        #expect(after[.sent] == 5 && after[.inDoubt] == 1 && after[.sending] == 0, "\(after)")
        #expect(try other.rows(cid: cid, in: .inDoubt, limit: 10).map(\.row) == [7])
        #expect(try other.ledger(cid: cid).reduce(0) { $0 + $1.spent.nanos } == 25_000_000)

        // A start reply takes off what the stop put there, never what a person added.
        _ = try other.suppress([SuppressionEntry(destination: 447_700_900_124, reason: "asked", source: .manual, addedAt: 1)])
        _ = try other.recordReceipts([
            DeliveryEvent(source: .agile, type: "INBOUND", match: .none, state: nil, raw: "{}", reply: .init(from: "+447700900123", text: "START")),
            DeliveryEvent(source: .agile, type: "INBOUND", match: .none, state: nil, raw: "{}", reply: .init(from: "+447700900124", text: "START")),
        ], receivedAt: at + 6_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(try other.suppression(of: 447_700_900_123).isEmpty)
        #expect(try other.suppression(of: 447_700_900_124).map(\.source) == [.manual])

        // Sent with no final event by the cut-off: `unknown` (row 5's pending receipt).
        #expect(try other.expireDeliveries(cid: cid, sentBefore: Int64.max) == 1)
        #expect(try other.deliverySummary(cid: cid)[.unknown] == 1)
        let later = try other.checkCounters(cid: cid)
        #expect(later.isEmpty, "\(later)")
        #expect(try other.pruneReceipts(before: at + 5_500) == events.count)

        // The token is made once, kept, and replaced on request.
        let token = try other.receiptToken()
        let again = try journal.receiptToken()
        #expect(token.count == 48 && again == token)
        #expect(try other.rotateReceiptToken() != token)
        try other.setReceiptSetting("base_url", "https://receipts.example")
        #expect(try journal.receiptSetting("base_url") == "https://receipts.example")
    }

    /// A receipt that came while its row was being sent proves the row accepted when its
    /// sender dies, where the provider dedupes too: PostgreSQL's takeover makes such rows due
    /// again, and left the receipted one waiting to be resent, counted delivered and not sent
    /// (journey seeds 20357 and 20780). Now it is `sent`, spent once, on both stores.
    @Test(arguments: Store.allCases)
    func aRowReceiptedWhileItsSenderDiesIsSentWhereTheProviderDedupes(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let journal = try fixture.openStore()
        var inputs = campaignInputs
        inputs.providerDedupes = true
        let first = deadOwner()
        let cid = cid(of: try openCampaign(journal, owner: first, inputs))
        try importRows(journal, cid: cid, numbers: numbers(3), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: first, claim: 2).claimed
        #expect(claimed.map(\.row) == [2, 3])
        let events = [event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered)]
        #expect(try journal.recordReceipts(events, receivedAt: at, keywords: ReplyKeywords(), resolve: nil).matched == 1)
        if store == .postgres { Thread.sleep(forTimeInterval: 1.3) }
        let other = try fixture.openStore()
        guard case .ready = try openCampaign(other, owner: LeaseOwner(), inputs) else {
            Issue.record("an imported campaign opens ready")
            return
        }
        let counts = try other.counts(cid: cid)
        #expect(counts[.sent] == 1 && counts[.sending] == 0, "\(counts)")
        #expect(try other.deliverySummary(cid: cid)[.delivered] == 1)
        // Row 2 is spent once; row 3 may have been delivered too: counted, its resend free
        // (PostgreSQL), or still reserved in doubt (SQLite).
        let ledger = try other.ledger(cid: cid)
        #expect(ledger.reduce(0) { $0 + $1.spent.nanos + $1.reserved.nanos } == 10_000_000, "\(ledger)")
        let drift = try other.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }

    /// Journey seeds 60062 and 60086: a sender is killed holding rows `sending`, `herald cancel`
    /// comes before anyone took them over, and every later open is refused as cancelled. The
    /// refused open finishes the cancel for the dead sender: its rows become `in_doubt` (they
    /// may have been delivered), or `sent` where a receipt came; none stays `sending` for ever
    /// with receipts counting deliveries for it beyond what was sent.
    @Test(arguments: Store.allCases)
    func aCancelWhoseSenderDiedSettlesItsRowsInFlight(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let journal = try fixture.openStore()
        let first = deadOwner()
        let cid = cid(of: try openCampaign(journal, owner: first))
        try importRows(journal, cid: cid, numbers: numbers(5), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: first, claim: 3).claimed
        #expect(claimed.map(\.row) == [2, 3, 4])
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        let events = [event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered)]
        _ = try journal.recordReceipts(events, receivedAt: at, keywords: ReplyKeywords(), resolve: nil)
        if store == .postgres { Thread.sleep(forTimeInterval: 1.3) }
        let other = try fixture.openStore()
        #expect(throws: JournalError.self, "a cancelled campaign is refused") { try openCampaign(other, owner: LeaseOwner()) }
        let counts = try other.counts(cid: cid)
        #expect(counts[.sending] == 0 && counts[.sent] == 1 && counts[.inDoubt] == 2 && counts[.skipped] == 2, "\(counts)")
        #expect(try other.deliverySummary(cid: cid)[.delivered] == 1)
        #expect(try other.campaign(id: "spring", mode: .real)?.state == .cancelled)
        #expect(try other.checkCounters(cid: cid).isEmpty)
        // Nothing stays reserved: the rows in doubt may have been delivered, so they count spent.
        let ledger = try other.ledger(cid: cid)
        #expect(ledger.reduce(0) { $0 + $1.reserved.nanos } == 0 && ledger.reduce(0) { $0 + $1.spent.nanos } == 15_000_000, "\(ledger)")
        // A receipt for one of them now settles it sent, spending nothing more.
        let late = [event("TEXT_DELIVERED", .row(campaign: "spring", row: 3, reference: nil), .delivered)]
        _ = try other.recordReceipts(late, receivedAt: at, keywords: ReplyKeywords(), resolve: nil)
        #expect(try other.counts(cid: cid)[.sent] == 2)
        #expect(try other.ledger(cid: cid).reduce(0) { $0 + $1.spent.nanos + $1.reserved.nanos } == 15_000_000)
        let settled = try other.counts(cid: cid)
        // Refused again: nothing more moves.
        #expect(throws: JournalError.self) { try openCampaign(try fixture.openStore(), owner: LeaseOwner()) }
        #expect(try other.counts(cid: cid) == settled && settled[.inDoubt] == 1)
    }

    /// `herald cancel` skips what waits to be sent, but a row waiting to be sent again whose
    /// earlier attempt may have been delivered (its answer lost) becomes `in_doubt`, and a
    /// receipt for that attempt then settles it `sent`. Skipped, the receipt counted a
    /// delivery for a row the journal said was cancelled: delivered passed sent.
    @Test(arguments: Store.allCases)
    func aCancelLeavesARowThatMayHaveBeenDeliveredInDoubt(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        var inputs = campaignInputs
        inputs.providerDedupes = true
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        try importRows(journal, cid: cid, numbers: numbers(4), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: owner, claim: 2).claimed
        let answers = [
            Settlement(row: 2, state: .retry, reason: .lostAnswer, notBefore: 4_000_000_000_000).settling(claimed[0]),
            Settlement(row: 3, state: .retry, reason: .transient, notBefore: 4_000_000_000_000).settling(claimed[1]),
        ]
        _ = try step(journal, cid: cid, owner: owner, settle: answers, claim: 0)
        #expect(try fixture.open().request(.cancel, campaign: "spring", mode: .real))
        let counts = try journal.counts(cid: cid)
        #expect(counts[.inDoubt] == 1 && counts.inDoubtByReason == [.lostAnswer: 1], "\(counts)")
        #expect(counts[.skipped] == 3 && counts.byReason == [.cancelled: 3], "\(counts)")
        let row = try journal.rows(cid: cid, in: .inDoubt, limit: 5)
        #expect(row.map(\.row) == [2] && row.first?.detail == BulkRule.Cancellation.doubtedDetailPrefix + "lost_answer)")
        // Its first attempt was delivered: sent, spent once (counted when the answer was lost).
        let events = [event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered)]
        #expect(try journal.recordReceipts(events, receivedAt: at, keywords: ReplyKeywords(), resolve: nil).settled == 1)
        let after = try journal.counts(cid: cid)
        #expect(after[.sent] == 1 && after[.inDoubt] == 0)
        #expect(try journal.deliverySummary(cid: cid)[.delivered] == 1)
        #expect(try journal.ledger(cid: cid).reduce(0) { $0 + $1.spent.nanos } == 5_000_000)
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }

    /// A receipt for an attempt made before its row was made due again spends the row once:
    /// now, where the row's reservation was only released (the provider dedupes); not again,
    /// where `resend-in-doubt` without dedupe already counted it as spent.
    @Test(arguments: Store.allCases)
    func aReceiptForARowMadeDueAgainSpendsItOnce(_ store: Store) throws {
        guard let fixture = try Fixture(store, leaseTimeout: 1) else { return }
        let first = deadOwner()
        let journal = try fixture.openStore()
        var inputs = campaignInputs
        inputs.providerDedupes = true
        let cid = cid(of: try openCampaign(journal, owner: first, inputs))
        try importRows(journal, cid: cid, numbers: numbers(4), cost: 5_000_000)
        let claimed = try step(journal, cid: cid, owner: first, claim: 4).claimed
        #expect(claimed.map(\.row) == [2, 3, 4, 5])
        // Rows 4 and 5 lose their answers, and are resent by hand as if the provider did not
        // dedupe: their first attempts count as spent.
        let lost = claimed.suffix(2).map { (claim: ClaimedMessage) -> Settlement in
            Settlement(row: claim.row, state: .inDoubt, reason: .lostAnswer, detail: "timeout").settling(claim)
        }
        _ = try step(journal, cid: cid, owner: first, settle: lost, claim: 0)
        #expect(try journal.resendInDoubt(cid: cid, providerDedupes: false, attemptedBefore: nil) == 2)
        #expect(try journal.ledger(cid: cid).map(\.spent) == [Money(nanos: 10_000_000)])
        // Rows 2 and 3 stay `sending`: their sender dies.
        if store == .postgres { Thread.sleep(forTimeInterval: 1.3) }
        let other = try fixture.openStore()
        guard case .ready = try openCampaign(other, owner: LeaseOwner(), inputs) else {
            Issue.record("an imported campaign opens ready")
            return
        }
        // The provider dedupes: rows 2 and 3 wait to be sent again, their first attempts counted
        // as spent (they may have been delivered) and the resend free (PostgreSQL's takeover
        // does it; SQLite's puts them in doubt, and the resend does).
        if store == .sqlite {
            #expect(try other.resendInDoubt(cid: cid, providerDedupes: true, attemptedBefore: nil) == 2)
        }
        #expect(try other.counts(cid: cid)[.retry] == 4)
        #expect(try other.ledger(cid: cid).map(\.reserved) == [Money.zero])
        #expect(try other.ledger(cid: cid).map(\.spent) == [Money(nanos: 20_000_000)])

        let events: [DeliveryEvent] = [
            event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered),
            event("TEXT_DELIVERED", .row(campaign: "spring", row: 4, reference: nil), .delivered),
        ]
        let result = try other.recordReceipts(events, receivedAt: at, keywords: ReplyKeywords(), resolve: nil)
        #expect(result.settled == 2, "\(result)")
        let counts = try other.counts(cid: cid)
        #expect(counts[.sent] == 2 && counts[.retry] == 2, "\(counts)")
        // Rows 2 and 4 were spent when they were made due again: their receipts spend nothing
        // more, and nothing stays reserved.
        let ledger = try other.ledger(cid: cid)
        let spent: Int64 = ledger.reduce(0) { $0 + $1.spent.nanos }, reserved: Int64 = ledger.reduce(0) { $0 + $1.reserved.nanos }
        #expect(spent == 20_000_000 && reserved == 0, "\(ledger)")
        #expect(ledger.first { $0.month == BillingMonth.of(milliseconds: at) } == nil)
        let drift = try other.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }

    /// A lost answer sent again with the same idempotency key is counted as spent at once and
    /// its resend is free: the provider bills it once, whichever attempt got through. Released
    /// instead, the budget gave its cost to another row before a receipt for the first attempt
    /// spent it, past the campaign limit (the rules' property test found it).
    @Test(arguments: Store.allCases)
    func aLostAnswerResentAsIsIsSpentOnceInsideTheLimit(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        var inputs = campaignInputs
        inputs.providerDedupes = true
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        try importRows(journal, cid: cid, numbers: numbers(4), cost: 5_000_000)
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money(nanos: 15_000_000)), channel: .sms)
        let claimed = try step(journal, cid: cid, owner: owner, claim: 3, budget: budget).claimed
        #expect(claimed.map(\.row) == [2, 3, 4])
        let answers = [
            Settlement(row: 2, state: .retry, reason: .lostAnswer, notBefore: 0).settling(claimed[0]),
            Settlement(row: 3, state: .retry, reason: .lostAnswer, notBefore: 0).settling(claimed[1]),
            Settlement(row: 4, state: .sent).settling(claimed[2]),
        ]
        _ = try step(journal, cid: cid, owner: owner, settle: answers, claim: 0, budget: budget)
        func totals() throws -> (spent: Int64, reserved: Int64) {
            let ledger = try journal.ledger(cid: cid)
            return (ledger.reduce(0) { $0 + $1.spent.nanos }, ledger.reduce(0) { $0 + $1.reserved.nanos })
        }
        #expect(try totals() == (15_000_000, 0), "both lost answers count as spent")
        // The first attempt of row 2 was delivered after all: nothing more is spent.
        let events = [event("TEXT_DELIVERED", .row(campaign: "spring", row: 2, reference: nil), .delivered)]
        #expect(try journal.recordReceipts(events, receivedAt: at, keywords: ReplyKeywords(), resolve: nil).settled == 1)
        #expect(try totals() == (15_000_000, 0))
        // Row 3's resend is free; row 5 would pass the limit.
        let next = try step(journal, cid: cid, owner: owner, claim: 10, budget: budget)
        #expect(next.claimed.map(\.row) == [3] && next.exhausted == .campaign)
        let resent = next.claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }
        _ = try step(journal, cid: cid, owner: owner, settle: resent, claim: 0, budget: budget)
        #expect(try totals() == (15_000_000, 0))
        let counts = try journal.counts(cid: cid)
        #expect(counts[.sent] == 3 && counts[.pending] == 1, "\(counts)")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }

    /// Delivery counters moved behind the journal's back are found and rebuilt.
    @Test(arguments: Store.allCases)
    func doctorFindsAndRepairsDeliveryDrift(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(3))
        let claimed = try step(journal, cid: cid, owner: owner, claim: 3).claimed
        _ = try step(journal, cid: cid, owner: owner,
                     settle: claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "r-\($0.row)").settling($0) }, claim: 0)
        _ = try journal.recordReceipts(claimed.map { event("TEXT_DELIVERED", .reference("r-\($0.row)"), .delivered) })
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        try MaintenanceContractTests().corrupt(fixture, journal, "UPDATE delivery_tally SET n = n + 2 WHERE state = 'delivered'")
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.map(\.what) == ["delivery delivered"] && drift.first?.counted == 5 && drift.first?.fromRows == 3, "\(drift)")
        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        #expect(try journal.deliverySummary(cid: cid)[.delivered] == 3)
    }

    /// A callback naming a row no journal can hold (a made-up `herald_row`) is kept as
    /// unmatched; it never traps the receiver.
    @Test(arguments: Store.allCases)
    func aRowNumberOutOfRangeIsUnmatched(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        _ = cid(of: try openCampaign(journal))
        let result = try journal.recordReceipts([
            event("TEXT_DELIVERED", .row(campaign: "spring", row: Int.max, reference: nil), .delivered),
            event("TEXT_DELIVERED", .row(campaign: "spring", row: Int.min, reference: nil), .delivered),
            event("TEXT_DELIVERED", .journalRow(cid: Int64.max, row: 3_000_000_000), .delivered),
        ])
        #expect(result.unmatched == 3 && result.matched == 0, "\(result)")
        #expect(try journal.unmatchedReceipts() == ["aws": 3])
    }
}

/// Issue 36, found by the journey test (seed 139 on sqlite-path): a DELIVERED event naming a
/// row that was never sent (still `pending` behind a spent budget, or skipped at import) was
/// recorded, and `status` showed more delivered than sent. Such events count as unmatched.
@Suite struct ReceiptForUnsentRowContractTests {
    @Test(arguments: Store.allCases)
    func aReceiptForARowNeverSentIsUnmatched(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: [447700900001, nil, 447700900002, 447700900003])
        let claimed = try step(journal, cid: cid, owner: owner, claim: 1).claimed
        _ = try step(journal, cid: cid, owner: owner,
                     settle: claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "m-\($0.row)").settling($0) }, claim: 0)
        let events = [2, 3, 4, 5].map { row in
            DeliveryEvent(source: .aws, type: "TEXT_DELIVERED", match: .row(campaign: "spring", row: row, reference: nil),
                          state: .delivered, at: 1_780_000_000_000, raw: "{}")
        }
        let result = try journal.recordReceipts(events, receivedAt: 1_780_000_001_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(result.matched == 1 && result.unmatched == 3, "\(result)")
        let delivery = try journal.deliverySummary(cid: cid)
        let sent = try journal.counts(cid: cid)[.sent]
        #expect(delivery[.delivered] == 1 && sent == 1)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
    }
}

/// Issue 36, finding 3: a signed message (an SNS `MessageId`) is taken once by the journal,
/// whichever receiver or restart sees it again; a reply acts by its own time, so an older
/// START (a replay, or one that arrived late) never undoes a newer STOP.
@Suite struct ReplayedReplyContractTests {
    func reply(_ text: String, at: Int64, envelope: String?) -> DeliveryEvent {
        var event = DeliveryEvent(source: .aws, type: "TEXT_RECEIVED", match: .none, state: nil, at: at, raw: "{}",
                                  reply: .init(from: "+447700900123", text: text))
        event.envelope = envelope
        return event
    }

    @Test(arguments: Store.allCases)
    func replayedAndOlderRepliesChangeNothing(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let first = try fixture.openStore()
        let now: Int64 = 1_780_000_000_000
        let start = reply("START", at: now, envelope: "sns-1")
        #expect(try first.recordReceipts([start], receivedAt: now, keywords: ReplyKeywords(), resolve: nil).replies == 1)
        let stop = reply("STOP", at: now + 60_000, envelope: "sns-2")
        _ = try first.recordReceipts([stop], receivedAt: now + 60_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(try first.suppression(of: 447700900123).count == 1)
        // The captured START, replayed to another receiver of the same journal.
        let second = try fixture.openStore()
        let replayed = try second.recordReceipts([start], receivedAt: now + 120_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(replayed.replayed == 1 && replayed.replies == 0, "\(replayed)")
        #expect(try second.suppression(of: 447700900123).count == 1, "a replayed START leaves the STOP")
        // An older START under a new id (arrived late): still older than the STOP.
        let late = reply("START", at: now + 30_000, envelope: "sns-3")
        _ = try second.recordReceipts([late], receivedAt: now + 130_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(try second.suppression(of: 447700900123).count == 1, "an older START never undoes a newer STOP")
        // A newer START does.
        let newer = reply("START", at: now + 90_000, envelope: "sns-4")
        _ = try second.recordReceipts([newer], receivedAt: now + 140_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(try second.suppression(of: 447700900123).isEmpty)
    }
}

/// Prices an older release stored without the range check (issue 36, finding 2: two prices
/// of 8.9e9 USD summed past `Int64`, and `doctor` then exited 4 "integer overflow" for good).
@Suite struct StoredPriceContractTests {
    @Test(arguments: Store.allCases)
    func pricesOutOfRangeAreReadableFoundAndMended(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(3), cost: 10_000_000)
        let claimed = try step(journal, cid: cid, owner: owner, claim: 3).claimed
        _ = try step(journal, cid: cid, owner: owner,
                     settle: claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "m-\($0.row)").settling($0) }, claim: 0)
        let events = [2, 3, 4].map { row in
            DeliveryEvent(source: .aws, type: "TEXT_DELIVERED", match: .reference("m-\(row)"), state: .delivered,
                          at: 1_780_000_000_000, price: Money(nanos: 6_000_000), raw: "{}")
        }
        _ = try journal.recordReceipts(events, receivedAt: 1_780_000_001_000, keywords: ReplyKeywords(), resolve: nil)
        #expect(try journal.checkCounters(cid: cid).isEmpty)

        // What an older release could store: two prices of 8.9e9 USD, and a price counter at the bound.
        let huge = "8900000000000000000"
        switch store {
        case .sqlite:
            let sqlite = try #require(journal as? Journal)
            try sqlite.executeForTesting("UPDATE delivery SET price = \(huge) WHERE cid = \(cid) AND row IN (2, 3)")
            try sqlite.executeForTesting("UPDATE delivery_tally SET n = 9223372036854775807 WHERE cid = \(cid) AND state = 'price'")
        case .postgres:
            let url = String(fixture.location.prefix { $0 != "?" })
            try TestPostgres.query(url, "UPDATE delivery SET price = \(huge) WHERE cid = \(cid) AND row IN (2, 3)")
            try TestPostgres.query(url, "UPDATE delivery_tally SET n = 9223372036854775807 WHERE cid = \(cid) AND state = 'price'")
        }
        // Readable: nothing traps or fails on them.
        let drift = try journal.checkCounters(cid: cid)
        #expect(drift.contains { $0.what.contains(DeliveryTallyChanges.priceOutOfRange) && $0.fromRows == 2 }, "\(drift)")
        _ = try journal.deliverySummary(cid: cid)
        _ = try journal.reportAggregates(cid: cid, examplesPerReason: 5)
        _ = try journal.ledger(cid: cid).reduce(Money.zero) { $0 + $1.spent + $1.reserved }

        try journal.repairCounters(cid: cid)
        #expect(try journal.checkCounters(cid: cid).isEmpty, "doctor --repair mends them")
        #expect(try journal.reportedCost(cid: cid) == Money(nanos: 6_000_000), "the one price in range stays")
    }
}
