import Foundation
import HeraldCore
import HeraldJournal
import HeraldTestSupport
import Testing

/// RCS to SMS through another provider on both stores (`RCSFallbackRule`): the rows a proving
/// receipt names are found once they are sent on an RCS route with a failed delivery; two
/// senders (two connections) move each once, with counters that agree with the rows; a moved
/// row is claimed again through its SMS route at its new price; a later RCS event for it
/// changes nothing.
@Suite struct RCSFallbackContractTests {
    static let proof = RCSFailureProof(source: ReceiptSource("aws"), types: ["RCS_FAILED", "RCS_TTL_EXPIRED"])

    static func event(_ cid: Int64, _ row: Int, _ type: String, _ state: DeliveryState) -> DeliveryEvent {
        var event = DeliveryEvent(source: ReceiptSource("aws"), type: type, match: .journalRow(cid: cid, row: row), state: state,
                                  code: type == "RCS_DELIVERED" ? nil : "FAILED", at: 1_764_496_800_000, price: Money("0.002"),
                                  raw: "{}")
        event.channel = .rcs
        return event
    }

    @Test(arguments: Store.allCases)
    func aProvedFailureMovesItsRowOnceToTheSMSRoute(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let first = try fixture.openStore(), second = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(first, owner: owner))
        // Lines 2...13, route (line % 3): route 2 is the RCS route that falls back to route 1.
        try RouteContractTests.importRouted(first, cid: cid)
        var cursor = ClaimCursor()
        let claimed = try first.step(cid: cid, owner: owner, settle: [], claim: 20, cursor: &cursor, budget: nil, gate: nil,
                                     sender: "sender", rate: nil).claimed
        let settle = claimed.map { Settlement(row: $0.row, state: .sent, providerRef: "rcs-\($0.row)").settling($0) }
        _ = try first.step(cid: cid, owner: owner, settle: settle, claim: 0, cursor: &cursor, budget: nil, gate: nil,
                           sender: "sender", rate: nil)
        // Route 2's lines are 2, 5, 8, 11. Line 2 failed, 5 expired, 8 was blocked (no proof),
        // 11 delivered; line 3 (route 0) failed, but route 0 falls back nowhere.
        _ = try first.recordReceipts([
            Self.event(cid, 2, "RCS_FAILED", .undelivered), Self.event(cid, 5, "RCS_TTL_EXPIRED", .expired),
            Self.event(cid, 8, "RCS_PROTECT_BLOCKED", .undelivered), Self.event(cid, 11, "RCS_DELIVERED", .delivered),
            Self.event(cid, 3, "RCS_FAILED", .undelivered),
        ])
        #expect(try first.awaitingReceipts(cid: cid, routes: [2]) == 0)
        #expect(try first.awaitingReceipts(cid: cid, routes: [0]) == 3)
        let (found, last) = try first.fallbackCandidates(cid: cid, proof: Self.proof, routes: [2], after: 0)
        #expect(found.map(\.row) == [2, 5] && found.map(\.signal) == ["RCS_FAILED", "RCS_TTL_EXPIRED"], "\(found)")
        #expect(found.allSatisfy { $0.cost == 3_000 && $0.delivery != nil && $0.price == 2_000_000 })
        #expect(try first.fallbackCandidates(cid: cid, proof: Self.proof, routes: [2], after: last).rows.isEmpty)
        let moves = found.map {
            FallbackMove(row: $0.row, from: 2, to: 1, parts: 2, cost: 1_500, signal: $0.signal, detail: "fell back")
        }
        // Two senders apply the same moves: each row moves once.
        #expect(try first.fallBack(cid: cid, moves) == 2)
        #expect(try second.fallBack(cid: cid, moves) == 0)
        let moved = try first.checkCounters(cid: cid)
        #expect(moved.isEmpty, "\(moved)")
        let counts = try first.counts(cid: cid)
        #expect(counts[.sent] == 10 && counts[.retry] == 2 && counts.waitingByReason[.rcsFallback] == 2, "\(counts)")
        let switches = try first.routeSwitches(cid: cid)
        #expect(switches.map(\.reason).sorted() == ["rcs_failed: RCS_FAILED", "rcs_failed: RCS_TTL_EXPIRED"], "\(switches)")
        #expect(switches.allSatisfy { $0.from == 2 && $0.to == 1 && $0.rows == 1 })
        // Their RCS attempts stay spent, counted with the route they left.
        let totals = try first.routeTotals(cid: cid)
        #expect(totals.first { $0.route == 2 }?.fellBackCost == 6_000 && totals.first { $0.route == 2 }?.cost == 4 * 3_000, "\(totals)")
        #expect(totals.first { $0.route == 1 }?.cost == 4 * 2_000 && totals.first { $0.route == 1 }?.fellBackCost == 0)
        // Found no more: neither is sent on route 2 now.
        #expect(try second.fallbackCandidates(cid: cid, proof: Self.proof, routes: [2], after: 0).rows.isEmpty)

        // A repeated RCS event for a moved row, waiting to go as SMS: it proves nothing.
        _ = try second.recordReceipts([Self.event(cid, 2, "RCS_FAILED", .undelivered)])
        #expect(try first.counts(cid: cid)[.retry] == 2)
        // Claimed again through the SMS route, at its price; an SMS receipt counts afresh.
        let again = try first.step(cid: cid, owner: owner, settle: [], claim: 20, cursor: &cursor, budget: nil, gate: nil,
                                   sender: "sender", rate: nil).claimed
        #expect(again.map(\.row) == [2, 5] && again.allSatisfy { $0.route == 1 && $0.cost == 1_500 && $0.parts == 2 && $0.attempts == 0 })
        _ = try first.step(cid: cid, owner: owner,
                           settle: again.map { Settlement(row: $0.row, state: .sent, providerRef: "sms-\($0.row)").settling($0) },
                           claim: 0, cursor: &cursor, budget: nil, gate: nil, sender: "sender", rate: nil)
        var delivered = Self.event(cid, 2, "delivered", .delivered)
        delivered.channel = .sms
        _ = try second.recordReceipts([delivered, Self.event(cid, 5, "RCS_TTL_EXPIRED", .expired)])
        let summary = try first.deliverySummary(cid: cid)
        #expect(summary[.delivered] == 2 && summary[.expired] == 0 && summary[.undelivered] == 2 && summary[.pending] == 0, "\(summary)")
        let drift = try first.checkCounters(cid: cid)
        #expect(drift.isEmpty, "\(drift)")
    }
}
