import HeraldCore
import HeraldJournal
import Testing

@Suite struct MigrationListTests {
    @Test func migrationsApplyAboveTheFoundVersionInOrder() {
        let list: [Migration<Int>] = [Migration(1, "one") { _ in }, Migration(2, "two") { _ in }, Migration(3, "three") { _ in }]
        #expect(list.schemaVersion() == 3)
        #expect(list.after(0).map(\.name) == ["one", "two", "three"])
        #expect(list.after(2).map(\.name) == ["three"])
        #expect(list.after(3).isEmpty)
    }

    @Test func recordsDecodeByNameAndNeverTrapOnOddValues() throws {
        struct Row: RecordRow {
            var values: [String: Any]
            func int64(_ column: String) -> Int64? { values[column] as? Int64 }
            func string(_ column: String) -> String? { values[column] as? String }
        }
        let record = try CampaignRecord(row: Row(values: [
            "cid": Int64(7), "id": "spring", "mode": "simulation", "state": "a-state-from-the-future",
            "total_rows": Int64.max, "lease_pid": Int64.min, "max_price": Int64(50_000_000), "sender": "worker",
        ]))
        #expect(record.cid == 7 && record.id == "spring" && record.mode == .simulation && record.sender == .worker)
        #expect(record.state == .stopped, "an unknown state reads as stopped")
        #expect(record.totalRows == Int.max && record.leasePID == Int.min)
        #expect(record.limits.maxPrice == Money(nanos: 50_000_000) && record.limits.campaignLimit == nil)
        #expect(record.purgedAt == nil && record.leaseHost == nil)
    }
}
