import Foundation
import Testing

/// The v3 journal committed under Fixtures/journal-v3 was written by the v3 release:
/// today's binary migrates it on first use and resumes each campaign where it stopped.
@Suite struct JournalV3Tests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/journal-v3")

    func copy() throws -> CLIFixture {
        let fixture = try CLIFixture()
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.fixture.path) {
            try FileManager.default.copyItem(at: Self.fixture.appendingPathComponent(name), to: fixture.folder.appendingPathComponent(name))
        }
        return fixture
    }

    func status(_ fixture: CLIFixture, _ id: String) throws -> [String: Any] {
        let result = try HeraldProcess.run(["status", id, "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    @Test func v3JournalIsMigratedAndResumed() throws {
        let fixture = try copy()
        let aws = try status(fixture, "v3-aws")
        #expect(aws["mode"] as? String == "real")
        #expect(aws["in_doubt_reasons"] as? [String: Int] == ["lost_answer": 7])
        #expect((aws["counts"] as? [String: Int])?["sent"] == 13)
        let simulation = try status(fixture, "v3-aws@simulation")
        #expect(simulation["mode"] as? String == "simulation")

        // The simulator campaign resumes: 27 pending rows and one retry, nothing sent twice.
        let before = try String(contentsOf: fixture.folder.appendingPathComponent("outbox.jsonl"), encoding: .utf8)
            .split(separator: "\n").count
        let resumed = try HeraldProcess.run(["resume", "v3.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let lines = try String(contentsOf: fixture.folder.appendingPathComponent("outbox.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let keys = lines.compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["idempotency_key"] as? String
        }
        #expect(Set(keys).count == keys.count, "no message delivered twice")
        #expect(lines.count > before)
        let v3 = try status(fixture, "v3")
        #expect(v3["state"] as? String == "completed")
        #expect((v3["counts"] as? [String: Int])?["sent"] == keys.filter { $0.hasPrefix("v3/") }.count)

        // A rehearsal of the AWS campaign runs on the simulator: no AWS endpoint is up
        // and no credentials are set, yet it completes (its two rows in doubt resent safely).
        let rehearsal = try HeraldProcess.run(["resume", "aws.yaml", "--simulate", "--journal", "journal.sqlite"],
                                              in: fixture.folder, environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(rehearsal.status == 0, "\(rehearsal.stdout)\n\(rehearsal.stderr)")
        #expect(try status(fixture, "v3-aws@simulation")["state"] as? String == "completed")
        #expect(try status(fixture, "v3-aws")["state"] as? String == "stopped", "the real campaign is untouched")

        for id in ["v3", "v3-aws", "v3-aws@simulation", "v3@dry-run"] {
            let doctor = try HeraldProcess.run(["doctor", id, "--journal", "journal.sqlite"], in: fixture.folder)
            #expect(doctor.status == 0 && doctor.stdout.contains("counters match the rows"), "\(id): \(doctor.stdout)\(doctor.stderr)")
        }
    }
}
