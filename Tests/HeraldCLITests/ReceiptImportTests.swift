import Foundation
import HeraldTestSupport
import Testing

/// Issue 21, finding 2, through the binary: `herald receipts import` of a file that mixes good
/// records with every overflowing timestamp records the good ones, names each bad one with its
/// reason, exits 3, and leaves a journal every reader can still read.
@Suite(.serialized) struct ReceiptImportTests {
    @Test func goodRecordsAreImportedAndEachBadOneIsNamed() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("mixed")
        let run = try HeraldProcess.run(["run", file], in: fixture.folder)
        #expect(run.status == 0, "\(run.stderr)")
        func event(_ row: Int, at time: String = "1764496800000") -> String {
            #"{"eventType":"TEXT_DELIVERED","eventTimestamp":\#(time),"isFinal":true,"messageId":"m-\#(row)","messageStatus":"DELIVERED","context":{"campaign":"mixed","herald_row":"\#(row)"}}"#
        }
        let overflowing = ["9e18", "1e999", "-9223372036854775808", "9223372036854775807", "-1e308", "1e300"]
        var lines = [event(2)]
        lines += overflowing.map { event(3, at: $0) }
        lines += [event(3), "\u{1B}[31mnot json", event(4)]
        try fixture.write("events.json", lines.joined(separator: "\n") + "\n")
        let imported = try HeraldProcess.run(["receipts", "import", "events.json"], in: fixture.folder)
        #expect(imported.status == 3, "\(imported.stdout)\n\(imported.stderr)")
        #expect(imported.stdout.contains("10 records: 3 matched") && imported.stdout.contains("7 rejected"), "\(imported.stdout)")
        #expect(imported.stderr.contains("events.json: record 2 (byte \(event(2).utf8.count + 1)): "), "\(imported.stderr)")
        #expect(imported.stderr.components(separatedBy: "\n").filter { $0.contains("events.json: record") }.count == 7)
        let status = try HeraldProcess.run(["status", "mixed", "--json"], in: fixture.folder)
        #expect(status.status == 0, "\(status.stderr)")
        let report = try HeraldProcess.run(["report", "mixed", "--csv", "report.csv"], in: fixture.folder)
        #expect(report.status == 0, "\(report.stderr)")
        let json = try HeraldProcess.run(["report", "mixed", "--json"], in: fixture.folder)
        #expect(json.status == 0, "\(json.stderr)")
        // The funnel's "delivered" step: the three good receipts, nothing of the bad ones.
        let funnel = json.stdout.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\n", with: "")
        #expect(funnel.contains(#""count":3,"label":"delivered""#) || funnel.contains(#""label":"delivered","count":3"#),
                "\(json.stdout)")
    }

    /// On PostgreSQL the import records through two connections at once: 5,000 records (2,500
    /// rows, each DELIVERED twice; the repeat changes nothing) and two bad ones, in batches the
    /// two writers share. Every good record is matched once, each bad one is named, and the
    /// counters agree with the rows (doctor).
    @Test func postgresImportThroughTwoWritersMatchesEveryRecord() throws {
        guard let url = try PostgresClusterTests.database() else { return }
        let rows = 2500
        let fixture = try CLIFixture()
        let environment = ["HERALD_JOURNAL": url]
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(rows).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("twice")
        let run = try HeraldProcess.run(["run", file], in: fixture.folder, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        func event(_ row: Int) -> String {
            #"{"eventType":"TEXT_DELIVERED","eventTimestamp":1764496800000,"isFinal":true,"messageId":"m-\#(row)","messageStatus":"DELIVERED","context":{"campaign":"twice","herald_row":"\#(row)"}}"#
        }
        var lines: [String] = []
        for pass in 0..<2 {
            lines += (2..<(rows + 2)).map(event)
            lines.append(pass == 0 ? "not json" : #"{"eventType":"TEXT_DELIVERED","eventTimestamp":1e999}"#)
        }
        try fixture.write("events.json", lines.joined(separator: "\n") + "\n")
        let imported = try HeraldProcess.run(["receipts", "import", "events.json"], in: fixture.folder, environment: environment)
        #expect(imported.status == 3, "\(imported.stdout)\n\(imported.stderr)")
        #expect(imported.stdout.contains("\(2 * rows + 2) records: \(2 * rows) matched, 0 unmatched"), "\(imported.stdout)")
        #expect(imported.stderr.components(separatedBy: "\n").filter { $0.contains("events.json: record") }.count == 2,
                "\(imported.stderr)")
        let status = try PostgresClusterTests.status(fixture, "twice", environment)
        let delivery = status["delivery"] as? [String: Any] ?? [:]
        #expect(delivery["delivered"] as? Int == rows && delivery["waiting_for_receipt"] as? Int == 0, "\(delivery)")
        let doctor = try HeraldProcess.run(["doctor", "twice"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
    }

    /// Issue 36, finding 2, through the binary: prices that pass one by one but overflow in
    /// sum (8e9 + 8e9 USD) trapped the importer (exit 132). Each such record is refused,
    /// named with its file and member; the journal keeps every good record and `doctor` agrees.
    @Test func pricesThatOverflowInSumAreRefusedNotTrapped() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("priced")
        #expect(try HeraldProcess.run(["run", file], in: fixture.folder).status == 0)
        func event(_ row: Int, _ prices: String) -> String {
            #"{"eventType":"TEXT_DELIVERED","messageId":"m\#(row)","eventTimestamp":1796526300000,\#(prices),"context":{"campaign":"priced","herald_row":"\#(row)"}}"#
        }
        try fixture.write("a.json", [
            event(2, #""totalMessagePrice":8e9,"totalCarrierFee":8e9"#),
            event(3, #""totalMessagePrice":8.9e9"#),
            event(4, #""totalMessagePrice":0.00581,"totalCarrierFee":0.0025"#),
        ].joined(separator: "\n") + "\n")
        let imported = try HeraldProcess.run(["receipts", "import", "a.json"], in: fixture.folder)
        #expect(imported.status == 3, "\(imported.stdout)\n\(imported.stderr)")
        #expect(imported.stdout.contains("3 records: 1 matched") && imported.stdout.contains("2 rejected"), "\(imported.stdout)")
        #expect(imported.stderr.contains("a.json: record 1 ") && imported.stderr.contains("totalMessagePrice"), "\(imported.stderr)")
        let doctor = try HeraldProcess.run(["doctor", "priced"], in: fixture.folder)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        let status = try HeraldProcess.run(["status", "priced", "--json"], in: fixture.folder)
        #expect(status.status == 0 && status.stdout.contains("0.00831"), "\(status.stdout)")
    }
}
