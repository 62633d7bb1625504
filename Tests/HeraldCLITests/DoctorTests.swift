import HeraldCore
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Testing

@Suite struct DoctorTests {
    /// A campaign whose import was cut short (its sender killed while writing rows) is no
    /// drift: `doctor` says the import is unfinished and the next run redoes it. Journey seeds
    /// 20654 and 20873 found `doctor` exiting 10 there on PostgreSQL, which writes an
    /// import's counters as it finishes; the decision is the command's, on both stores.
    @Test func anImportCutShortIsUnfinishedNotDrift() throws {
        let fixture = try CLIFixture()
        let journal = try Journal(path: fixture.path("journal.sqlite"))
        let inputs = CampaignInputs(id: "c", campaignPath: "/c.yaml", templateSHA: "t", recipientsSHA: "r", channel: .sms)
        let opening = try journal.open(inputs, owner: LeaseOwner(), recipientsPath: "r.csv", templatePath: "t.yaml", unpause: true)
        guard case .needsImport(let cid) = opening else {
            Issue.record("a new campaign needs its rows")
            return
        }
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("hello".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for row in 2...4 {
                try writer.add(ImportedRow(row: row, destination: 15_550_100 + UInt64(row), region: "US",
                                           body: UnsafeBufferPointer(buffer), skipReason: nil, skipDetail: nil))
            }
        }
        writer.abandon()
        let doctor = try HeraldProcess.run(["doctor", "c", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        #expect(doctor.stdout.contains("c: import unfinished"), "\(doctor.stdout)")
        let repair = try HeraldProcess.run(["doctor", "c", "--repair", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(repair.status == 0 && repair.stdout.contains("import unfinished"), "\(repair.stdout)\n\(repair.stderr)")
    }
}
