import Foundation
import HeraldCore
import HeraldJournal
import HeraldTestSupport
import Testing

/// A campaign with several providers on both stores: the route each row recorded at import
/// comes back with its claim, a suppression scoped to one route's sender holds back only that
/// route's rows, and the totals per route add up to the campaign's.
@Suite struct RouteContractTests {
    /// A provider one sender demoted is seen by another sender of the campaign (another
    /// connection) until its cool-down ends: per provider the later end is kept, whoever wrote
    /// last, and an ended one is gone; on both stores.
    @Test(arguments: Store.allCases)
    func demotionsAreSharedUntilTheyEnd(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let first = try fixture.openStore(), second = try fixture.openStore()
        let cid = cid(of: try openCampaign(first, owner: LeaseOwner()))
        #expect(try second.sharedDemotions(cid: cid).isEmpty)
        let now = first.currentTime()
        try first.shareDemotions(cid: cid, [SharedDemotion(route: 1, until: now + 60_000, reason: "a request never reached it")])
        #expect(try second.sharedDemotions(cid: cid) == [SharedDemotion(route: 1, until: now + 60_000, reason: "a request never reached it")])
        // The other sender demotes it for less (kept: the later end), and another provider.
        try second.shareDemotions(cid: cid, [SharedDemotion(route: 1, until: now + 30_000, reason: "throttled"),
                                             SharedDemotion(route: 0, until: now + 90_000, reason: "slow")])
        #expect(try first.sharedDemotions(cid: cid) == [
            SharedDemotion(route: 0, until: now + 90_000, reason: "slow"),
            SharedDemotion(route: 1, until: now + 60_000, reason: "a request never reached it"),
        ])
        // Ended: gone from what is read, and dropped at the next write.
        try first.shareDemotions(cid: cid, [SharedDemotion(route: 2, until: now - 1, reason: "over")])
        #expect(try second.sharedDemotions(cid: cid).map(\.route) == [0, 1])
    }

    /// Rows 2...13: row r goes through route (r % 3), costing 1,000 × (route + 1).
    static func importRouted(_ journal: any CampaignJournal, cid: Int64) throws {
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for line in 2...13 {
                var row = ImportedRow(row: line, destination: 447_700_900_000 + UInt64(line), region: "GB",
                                      body: UnsafeBufferPointer(buffer))
                row.route = line % 3
                row.cost = 1_000 * Int64(row.route + 1)
                try writer.add(row)
            }
        }
        try writer.finish()
    }

    /// Each row's language, recorded at import, is counted by state with its cost and
    /// receipts on both stores; skipped rows keep theirs.
    @Test(arguments: Store.allCases)
    func languageTotalsCountEachVariantsRows(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hola".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            // Lines 2...9: en, es, pt-BR, en, es, pt-BR, ...; line 9 skipped (a bad value).
            for line in 2...9 {
                var row = ImportedRow(row: line, destination: 447_700_900_000 + UInt64(line), region: "GB",
                                      body: UnsafeBufferPointer(buffer), skipReason: line == 9 ? .invalidValue : nil)
                row.language = ["en", "es", "pt-BR"][line % 3]
                row.cost = 1_000
                try writer.add(row)
            }
        }
        try writer.finish()
        var cursor = ClaimCursor()
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 3, cursor: &cursor, budget: nil, gate: nil,
                                       sender: "sender", rate: nil).claimed
        #expect(claimed.map(\.row) == [2, 3, 4])
        let settle = claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "ref-\($0.row)").settling($0) }
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor, budget: nil, gate: nil,
                             sender: "sender", rate: nil)
        let totals = try journal.languageTotals(cid: cid)
        #expect(totals.map(\.language) == ["en", "es", "pt-BR"])
        // Line 2 -> pt-BR, 3 -> en, 4 -> es sent; 5 pt-BR, 6 en, 7 es, 8 pt-BR pending; 9 en skipped.
        #expect(totals.map { $0[.sent] } == [1, 1, 1])
        #expect(totals.map { $0[.pending] } == [1, 1, 2])
        #expect(totals.map { $0[.skipped] } == [1, 0, 0])
        #expect(totals.map(\.cost) == [1_000, 1_000, 1_000])
        #expect(try schemaColumns(journal, "message").contains("language"))
    }

    @Test(arguments: Store.allCases)
    func claimsCarryTheRecordedRouteAndTotalsAddUp(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try Self.importRouted(journal, cid: cid)
        // Number of line 5 (route 2) is listed for route 2's sender only; line 7 (route 1) for
        // route 2's sender too, which is not its own: only line 5 is held back.
        _ = try journal.suppress([SuppressionEntry(destination: 447_700_900_005, scope: "sender-c", source: .manual, addedAt: 1),
                                  SuppressionEntry(destination: 447_700_900_007, scope: "sender-c", source: .manual, addedAt: 1)])
        var cursor = ClaimCursor()
        let scopes = SenderScopes(["sender-a", "sender-b", "sender-c"])
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 20, cursor: &cursor, budget: nil, gate: nil,
                                       sender: scopes, rate: nil).claimed
        #expect(claimed.map(\.row) == [2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13])
        for message in claimed {
            #expect(message.route == message.row % 3, "line \(message.row)")
            #expect(message.cost == 1_000 * Int64(message.row % 3 + 1))
        }
        // Lines 2 and 3 sent, 4 failed, the rest left in flight then settled sent or in doubt.
        let settle = claimed.map { message -> Settlement in
            switch message.row {
            case 4: Settlement(row: 4, state: .failed, reason: .rejected).settling(message)
            case 6: Settlement(row: 6, state: .inDoubt, reason: .lostAnswer).settling(message)
            default: Settlement(row: message.row, state: .sent, providerRef: "ref-\(message.row)").settling(message)
            }
        }
        var after = cursor
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &after, budget: nil, gate: nil,
                             sender: scopes, rate: nil)
        let totals = try journal.routeTotals(cid: cid)
        #expect(totals.map(\.route) == [0, 1, 2])
        // Route 0: lines 3, 6, 9, 12 (6 in doubt); route 1: 4 (failed), 7, 10, 13; route 2: 2, 5 (suppressed), 8, 11.
        #expect(totals[0][.sent] == 3 && totals[0][.inDoubt] == 1 && totals[0].cost == 4_000)
        #expect(totals[1][.sent] == 3 && totals[1][.failed] == 1 && totals[1].cost == 6_000)
        #expect(totals[2][.sent] == 3 && totals[2][.skipped] == 1 && totals[2].cost == 9_000)
        let counts = try journal.counts(cid: cid)
        for state in MessageState.allCases {
            #expect(totals.reduce(0) { $0 + $1[state] } == counts[state], "\(state)")
        }
        #expect(try schemaColumns(journal, "message").contains("route"))
    }

    @Test(arguments: Store.allCases)
    func aCampaignWithOneProviderRecordsRouteZero(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(4), cost: 500)
        let claimed = try step(journal, cid: cid, owner: owner, claim: 10).claimed
        #expect(claimed.count == 4 && claimed.allSatisfy { $0.route == 0 })
        let totals = try journal.routeTotals(cid: cid)
        #expect(totals.map(\.route) == [0] && totals[0][.sending] == 4)
    }

    /// Failover on both stores: a settlement that moves a row to another provider sets its
    /// route, parts and cost, puts it back due now (`retry`, `rerouted`) with its reservation
    /// released, records the switch, and keeps the report's counters equal to the rows. The
    /// next claim carries the new route and reserves the new price. A row whose earlier
    /// request may have got through says so in its claim (`doubted`), and a settlement for a
    /// row the sender no longer holds records no switch.
    @Test(arguments: Store.allCases)
    func aMovedRowTakesItsNewRouteAndTheSwitchIsRecorded(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try Self.importRouted(journal, cid: cid)
        let budget = BudgetContext(limits: BudgetLimits(campaignLimit: Money("10.00")), channel: .sms)
        var cursor = ClaimCursor()
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: 3, cursor: &cursor, budget: budget, gate: nil,
                                       sender: "", rate: nil).claimed
        #expect(claimed.map(\.row) == [2, 3, 4])
        #expect(claimed.allSatisfy { !$0.doubted })
        // Line 3 (route 0, cost 1,000) moves to route 2 at 7,000 for 2 parts; line 2 (route 2)
        // comes back with a lost answer, to be sent again with its key; line 4 is sent.
        let line3 = try #require(claimed.first { $0.row == 3 })
        var moved = Settlement(row: 3, state: .retry, reason: .rerouted, detail: "moved", notBefore: 0, countsAttempt: false)
            .settling(line3)
        moved.move = RouteMove(from: 0, to: 2, parts: 2, cost: 7_000, reason: "unreached")
        let settle = claimed.map { message -> Settlement in
            switch message.row {
            case 3: moved
            case 2: Settlement(row: 2, state: .retry, reason: .lostAnswer, notBefore: 0).settling(message)
            default: Settlement(row: message.row, state: .sent, providerRef: "ref").settling(message)
            }
        }
        _ = try journal.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor, budget: budget, gate: nil,
                             sender: "", rate: nil)
        // The same settlement again: the row is no longer held, nothing is recorded twice.
        _ = try journal.step(cid: cid, owner: owner, settle: [moved], claim: 0, cursor: &cursor, budget: budget, gate: nil,
                             sender: "", rate: nil)
        let switches = try journal.routeSwitches(cid: cid)
        #expect(switches.count == 1)
        #expect(switches.first.map { ($0.from, $0.to, $0.reason, $0.rows) } ?? (0, 0, "", 0) == (0, 2, "unreached", 1))
        let counts = try journal.counts(cid: cid)
        #expect(counts.waitingByReason[.rerouted] == 1)
        // Reserved: nothing (line 3 released, line 2's counted as spent for its resend with the
        // same key); spent: line 4 (2,000) and line 2's (3,000).
        let ledger = try journal.ledger(cid: cid)
        #expect(ledger.reduce(Money.zero) { $0 + $1.reserved } == .zero)
        #expect(ledger.reduce(Money.zero) { $0 + $1.spent } == Money(nanos: 5_000))
        // Claimed again: line 2 (a resend after a lost answer: doubted) and line 3 through route 2.
        let again = try journal.step(cid: cid, owner: owner, settle: [], claim: 2, cursor: &cursor, budget: budget, gate: nil,
                                     sender: "", rate: nil).claimed
        let reclaimed = try #require(again.first { $0.row == 3 })
        #expect(reclaimed.route == 2 && reclaimed.parts == 2 && reclaimed.cost == 7_000 && reclaimed.reserved == 7_000)
        #expect(!reclaimed.doubted)
        #expect(again.first { $0.row == 2 }?.doubted == true)
        let ledgerNow = try journal.ledger(cid: cid)
        #expect(ledgerNow.reduce(Money.zero) { $0 + $1.reserved } == Money(nanos: 7_000))
        let totals = try journal.routeTotals(cid: cid)
        #expect(totals.first { $0.route == 2 }?[.sending] == 2)
        let drift = try #require(journal as? any MaintenanceJournal).checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
        #expect(try schemaColumns(journal, "route_switch") == ["cid", "row", "at", "from_route", "to_route", "reason", "spent"])
    }

    /// Rows record their provider by its place in `providers:`, so on both stores a started
    /// campaign whose list was reordered (or a provider renamed) is refused, naming both lists,
    /// as a changed template is; providers added at the end are taken; before anything was
    /// sent, a changed list imports the rows again.
    @Test(arguments: Store.allCases)
    func aReorderedListIsRefusedOnceSendingStarted(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        var inputs = campaignInputs
        inputs.routes = ["a", "b"]
        var reordered = inputs
        reordered.routes = ["b", "a"]
        // Not started: the new order is taken and the rows imported again.
        let journal = try fixture.open()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        try importRows(journal, cid: cid, numbers: numbers(3))
        try journal.release(cid: cid, owner: owner, state: .stopped)
        let again = try openCampaign(try fixture.open(), owner: owner, reordered)
        guard case .needsImport = again else {
            Issue.record("a campaign that sent nothing imports again under a new list, got \(again)")
            return
        }
        try importRows(journal, cid: cid, numbers: numbers(3))
        _ = try step(journal, cid: cid, owner: owner, claim: 1)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        do {
            try openCampaign(try fixture.open(), inputs)
            Issue.record("a reordered providers: list must be refused once rows were sent")
        } catch let error as JournalError {
            #expect(error.isInputChange, "\(error)")
            #expect("\(error)".contains("list of providers: (b, a when it started, a, b now"), "\(error)")
        }
        var longer = reordered
        longer.routes = ["b", "a", "c"]
        let opened = try fixture.open()
        #expect(throws: Never.self) { try openCampaign(opened, owner: owner, longer) }
    }
}
