import Foundation
import HeraldJournal
import HeraldSQLite
import Testing

/// `herald purge`: a finished campaign's numbers and bodies are gone from the journal
/// file itself (searched byte by byte), while its counts and spend remain.
@Suite struct PurgeTests {
    /// The bytes of the journal and its WAL, if any.
    func fileBytes(_ fixture: CLIFixture) -> Data {
        var data = FileManager.default.contents(atPath: fixture.path("journal.sqlite")) ?? Data()
        data.append(FileManager.default.contents(atPath: fixture.path("journal.sqlite-wal")) ?? Data())
        return data
    }

    /// How SQLite stores a number this size: 6 bytes, big-endian.
    func stored(_ digits: UInt64) -> Data {
        Data((0..<6).reversed().map { UInt8(truncatingIfNeeded: digits >> (8 * UInt64($0))) })
    }

    @Test func purgedNumbersAndBodiesAreGoneFromTheFile() throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(300)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\n*,sms,0.01\n")
        let file = try fixture.campaign(extra: "prices: prices.csv")
        let environment = ["HERALD_JOURNAL": "journal.sqlite"]
        #expect(try HeraldProcess.run(["run", file], in: fixture.folder, environment: environment).status == 0)
        let digits = UInt64(rows[137].phone.dropFirst())!
        let body = Data("Hi Person 137, your code is C137".utf8)
        var bytes = fileBytes(fixture)
        #expect(bytes.range(of: stored(digits)) != nil && bytes.range(of: body) != nil, "the values are there before")

        let purge = try HeraldProcess.run(["purge", "c"], in: fixture.folder, environment: environment)
        #expect(purge.status == 0 && purge.stdout.contains("300 rows removed"), "\(purge.stdout)\(purge.stderr)")
        bytes = fileBytes(fixture)
        #expect(bytes.range(of: stored(digits)) == nil, "the number is gone from the file")
        #expect(bytes.range(of: body) == nil, "the body is gone from the file")

        let status = try HeraldProcess.run(["status", "c", "--json"], in: fixture.folder, environment: environment)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        #expect((object["counts"] as? [String: Int])?["sent"] == 300)
        #expect((object["spend"] as? [String: Any])?["spent"] as? String == "3.00")
        let again = try HeraldProcess.run(["run", file], in: fixture.folder, environment: environment)
        #expect(again.status == 8 && again.stderr.contains("was purged"), "\(again.stderr)")
        let doctor = try HeraldProcess.run(["doctor", "c"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)")
    }

    @Test func anUnfinishedCampaignIsNotPurged() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(20).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign()
        let environment = ["HERALD_JOURNAL": "journal.sqlite"]
        #expect(try HeraldProcess.run(["run", file, "--limit", "5"], in: fixture.folder, environment: environment).status == 0)
        let before = try fixture.snapshot()
        let purge = try HeraldProcess.run(["purge", "c"], in: fixture.folder, environment: environment)
        #expect(purge.status == 3 && purge.stderr.contains("c is stopped: only a completed or cancelled campaign can be purged"),
                "\(purge.stderr)")
        #expect(try fixture.snapshot() == before)
        let unknown = try HeraldProcess.run(["purge", "nope"], in: fixture.folder, environment: environment)
        #expect(unknown.status == 3 && unknown.stderr.contains("no campaign \"nope\""))
    }
}
