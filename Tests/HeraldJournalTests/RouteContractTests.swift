import Foundation
import HeraldCore
import HeraldJournal
import HeraldTestSupport
import Testing

/// A campaign with several providers on both stores: the route each row recorded at import
/// comes back with its claim, a suppression scoped to one route's sender holds back only that
/// route's rows, and the totals per route add up to the campaign's.
@Suite struct RouteContractTests {
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
}
