import Foundation
import HeraldCore
import HeraldJournal
import HeraldSQLite
@testable import HeraldEngine
import Testing

/// `sms_fallback:` rehearsed on the simulator: a simulated RCS agent that never falls back
/// itself (`rcs_direct: true`) reports some RCS messages failed; exactly those rows go once as
/// SMS, their `fallback_sms`, through the second simulator, priced by its book.
@Suite struct SMSFallbackRunTests {
    @Test func aSimulatedRCSAgentRehearsesTheFallback() async throws {
        let rows = (0..<60).map { "+1 202 555 \(String(format: "%04d", 100 + $0 % 100)),Name\($0),C\(String(format: "%03d", $0)),1" }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + rows.joined(separator: "\n") + "\n", template: RCSCampaign.template)
        try "country,channel,price\nUS,rcs,0.0100\n".write(to: fixture.folder.appendingPathComponent("a.csv"), atomically: true, encoding: .utf8)
        try "country,channel,price\nUS,sms,0.0079\n".write(to: fixture.folder.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        try """
        id: routed
        template: template.yaml
        recipients: recipients.csv
        routing: ordered
        budget: {campaign_limit: 5}
        providers:
          - {name: a, kind: simulator, outbox: a.jsonl, prices: a.csv, rcs_direct: true, seed: 3, sms_fallback: b, sms_fallback_wait: 30,
             receipts: {delivered: 0.6, undelivered: 0.4, latency_ms: "1-40"}}
          - {name: b, kind: simulator, outbox: b.jsonl, prices: b.csv}
        """.write(to: URL(fileURLWithPath: fixture.campaignPath), atomically: true, encoding: .utf8)
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed && summary.counts[.sent] == 60, "\(summary.counts)")
        let rcs = try RoutingTests.delivered(fixture, "a.jsonl"), sms = try RoutingTests.delivered(fixture, "b.jsonl")
        #expect(rcs.count == 60 && Set(sms).count == sms.count && Set(sms).isSubset(of: Set(rcs)), "\(sms)")
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        let moved = status.switches?.reduce(0) { $0 + $1.rows } ?? 0
        #expect(moved == sms.count && moved > 5 && moved < 45, "\(moved) moved, \(sms.count) SMS")
        #expect(status.switches?.allSatisfy { $0.reason == "rcs_failed: RCS_FAILED" && $0.from == "a" && $0.to == "b" } == true)
        // Every RCS message spent, and one SMS part for each row that fell back.
        #expect(summary.spent == Money("0.60")! + Money(nanos: Int64(moved) * 7_900_000), "\(summary.spent)")
        // The SMS are the template's fallback_sms.
        let lines = String(decoding: FileManager.default.contents(atPath: fixture.folder.appendingPathComponent("b.jsonl").path) ?? Data(),
                           as: UTF8.self)
        #expect(lines.contains("\"body\":\"Hi Name") && lines.contains(", code C0"), "\(lines.prefix(300))")
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "routed", mode: .real))
        #expect(try journal.checkCounters(cid: record.cid).isEmpty)
    }
}
