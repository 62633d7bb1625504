import Foundation
import HeraldTestSupport
import Synchronization
import Testing

/// Recipient care through the binary on a PostgreSQL journal: an AWS-style provider's
/// opted-out answer lists the number in the same transaction that fails the row, so the
/// next campaign in the journal skips it without asking the provider again.
@Suite struct PostgresOptOutTests {
    @Test func anOptedOutAnswerOnPostgreSQLListsTheNumberForTheNextCampaign() async throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
        let rows = CLIFixture.rows(5)
        let optedOut = rows[1].phone
        let asked = Mutex<[String: Int]>([:])
        let server = try await LoopbackServer { request in
            guard request.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendTextMessage" else {
                return .respond(status: 200, body: #"{"SpendLimits":[]}"#)
            }
            let destination = request.json["DestinationPhoneNumber"] as? String ?? ""
            asked.withLock { $0[destination, default: 0] += 1 }
            return destination == optedOut
                ? .respond(status: 400, body: #"{"__type":"ConflictException","Reason":"DESTINATION_PHONE_NUMBER_OPTED_OUT","Message":"opted out"}"#)
                : .respond(status: 200, body: #"{"MessageId":"m"}"#)
        }
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let provider = "{kind: aws, region: us-east-1, endpoint: \"\(server.url)\", origination_identity: \"+12025550100\"}"
        let first = try fixture.campaign("first", provider: provider)
        let second = try fixture.campaign("second", provider: provider)
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "HERALD_JOURNAL": url]

        let one = try HeraldProcess.run(["run", first], in: fixture.folder, environment: environment)
        #expect(one.status == 0, "\(one.stdout)\n\(one.stderr)")
        let firstStatus = try PostgresClusterTests.status(fixture, "first", environment)
        #expect((firstStatus["counts"] as? [String: Int])?["sent"] == 4)
        #expect((firstStatus["counts"] as? [String: Int])?["failed"] == 1)

        let two = try HeraldProcess.run(["run", second], in: fixture.folder, environment: environment)
        #expect(two.status == 0, "\(two.stdout)\n\(two.stderr)")
        let secondStatus = try PostgresClusterTests.status(fixture, "second", environment)
        let counts = secondStatus["counts"] as? [String: Int] ?? [:]
        #expect(counts["sent"] == 4 && counts["skipped"] == 1, "\(secondStatus)")
        #expect((secondStatus["reasons"] as? [String: Int])?["suppressed"] == 1, "\(secondStatus)")
        #expect(asked.withLock { $0[optedOut] } == 1, "asked once, never again")
        #expect(asked.withLock { $0.values.reduce(0, +) } == 9)
        try await server.shutdown()
    }

    /// `herald suppress` edits a PostgreSQL journal's list, and `estimate` and `validate`
    /// read it (with the campaign's progress) instead of skipping the journal.
    @Test func suppressEstimateAndValidateWorkOnPostgreSQL() throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
        let rows = CLIFixture.rows(6)
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("listed")
        let environment = ["HERALD_JOURNAL": url]
        func herald(_ arguments: [String]) throws -> HeraldProcess.Result {
            try HeraldProcess.run(arguments, in: fixture.folder, environment: environment)
        }
        let added = try herald(["suppress", "add", rows[0].phone, rows[3].phone, "--reason", "asked"])
        #expect(added.status == 0 && added.stdout.contains("2 added"), "\(added.stdout)\n\(added.stderr)")
        #expect(try herald(["suppress", "add", rows[0].phone]).stdout.contains("0 added, 1 already listed"))
        let check = try herald(["suppress", "check", rows[3].phone])
        #expect(check.status == 0 && check.stdout.contains("asked"), "\(check.stdout)")
        #expect(try herald(["suppress", "list"]).stdout.contains("2 numbers on the list"))
        #expect(try herald(["suppress", "remove", rows[3].phone]).stdout.contains("1 removed"))

        let estimate = try herald(["estimate", file, "--json"])
        #expect(estimate.status == 0, "\(estimate.stderr)")
        let figures = try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(figures["suppressed"] as? Int == 1, "\(figures)")
        let validate = try herald(["validate", file])
        #expect(validate.status == 0 && validate.stdout.contains("1 on the suppression list"), "\(validate.stdout)\n\(validate.stderr)")

        let run = try herald(["run", file])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let status = try PostgresClusterTests.status(fixture, "listed", environment)
        #expect((status["counts"] as? [String: Int])?["sent"] == 5, "\(status)")
        #expect((status["reasons"] as? [String: Int])?["suppressed"] == 1, "\(status)")
        let after = try JSONSerialization.jsonObject(with: Data(try herald(["estimate", file, "--json"]).stdout.utf8)) as? [String: Any]
        #expect(after?["already_sent"] as? Int == 5, "estimate reads the PostgreSQL journal's progress: \(after ?? [:])")

        // `herald report` reads a PostgreSQL campaign's counters: JSON, the page and the CSV.
        let report = try herald(["report", "listed", "--json", "--html", "report.html", "--csv", "recipients.csv.out"])
        #expect(report.status == 0, "\(report.stdout)\n\(report.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any] ?? [:]
        #expect((json["counts"] as? [String: Int])?["sent"] == 5, "\(json)")
        let funnel = (json["funnel"] as? [[String: Any]] ?? []).map { "\($0["label"] ?? "")=\($0["count"] ?? "")" }
        #expect(funnel.starts(with: ["rows=6", "valid=6", "sent=5"]), "\(funnel)")
        let suppressed = (json["reasons"] as? [[String: Any]] ?? []).first { $0["reason"] as? String == "suppressed" }
        #expect(suppressed?["count"] as? Int == 1 && suppressed?["examples"] as? [Int] == [2], "\(String(describing: suppressed))")
        let csvLines = try String(contentsOf: fixture.folder.appendingPathComponent("recipients.csv.out"), encoding: .utf8).split(separator: "\n")
        #expect(csvLines.count == 7, "a header and one line per recipient: \(csvLines)")
        #expect(FileManager.default.fileExists(atPath: fixture.folder.appendingPathComponent("report.html").path))

        // `herald doctor` recounts a PostgreSQL campaign too: drift found (exit 10), then rebuilt.
        let healthy = try herald(["doctor", "listed"])
        #expect(healthy.status == 0 && healthy.stdout.contains("counters match the rows (6 rows)"), "\(healthy.stdout)\n\(healthy.stderr)")
        _ = try TestPostgres.query(String(url.prefix { $0 != "?" }), "UPDATE tally SET n = n + 1 WHERE state = 4")  // skipped
        let drifted = try herald(["doctor", "listed"])
        #expect(drifted.status == 10 && drifted.stdout.contains("listed: rows skipped: counters say 2, the rows say 1"), "\(drifted.stdout)\n\(drifted.stderr)")
        let repaired = try herald(["doctor", "listed", "--repair"])
        #expect(repaired.status == 0 && repaired.stdout.contains("counters rebuilt from the rows"), "\(repaired.stdout)\n\(repaired.stderr)")
        #expect(try herald(["doctor", "listed"]).status == 0)

        // `herald purge` of the finished campaign: numbers and bodies gone, counts kept, never sent again.
        let purged = try herald(["purge", "listed"])
        #expect(purged.status == 0 && purged.stdout.contains("of 6 rows removed"), "\(purged.stdout)\n\(purged.stderr)")
        let database = String(url.prefix { $0 != "?" })
        #expect(try TestPostgres.query(database, "SELECT count(*)::text FROM herald.message WHERE dest IS NOT NULL OR body IS NOT NULL") == ["0"])
        #expect((try PostgresClusterTests.status(fixture, "listed", environment)["counts"] as? [String: Int])?["sent"] == 5)
        let again = try herald(["run", file])
        #expect(again.status != 0 && again.stderr.contains("was purged"), "\(again.stdout)\n\(again.stderr)")
    }
}
