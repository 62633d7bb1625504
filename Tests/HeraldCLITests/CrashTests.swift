import Foundation
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Testing

/// Kills real `herald` processes and checks the simulator's outbox: every valid
/// recipient exactly once, whatever moment the process died at.
@Suite(.serialized) struct CrashTests {
    struct OutboxLine: Decodable {
        let destination: String
        let idempotency_key: String
    }

    /// 3,000 recipients with a few bad rows and duplicates; returns the numbers that must be delivered.
    func makeCampaign(_ fixture: CLIFixture) throws -> (file: String, expected: Set<String>) {
        let rows = CLIFixture.rows(3000)
        var lines = rows.map(\.line)
        lines.insert("+44 7700 9001,Short,AB12", at: 10)        // bad number
        lines.insert("\(rows[5].phone),Dup,AB12", at: 500)      // duplicate
        lines.insert("\(rows[2500].phone),Dup,AB12", at: 2900)  // duplicate
        lines.insert("+44 7700 900777,Lower,ab12", at: 1500)    // pattern mismatch
        try fixture.write("recipients.csv", "phone,name,code\n" + lines.joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "crash", provider: "{kind: simulator, latency_ms: \"1-3\", outbox: outbox.jsonl, seed: 42}",
            extra: "rate: {max_in_flight: 4}")
        return (file, Set(rows.map(\.phone)))
    }

    func outbox(_ fixture: CLIFixture) throws -> [OutboxLine] {
        guard let data = FileManager.default.contents(atPath: fixture.path("outbox.jsonl")) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(OutboxLine.self, from: Data($0)) }
    }

    func status(_ fixture: CLIFixture) throws -> [String: Any] {
        let result = try HeraldProcess.run(["status", "crash", "--json"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    @Test func sigkillAtRandomMomentsNeverLosesOrDuplicates() throws {
        let fixture = try CLIFixture()
        let (file, expected) = try makeCampaign(fixture)
        var random = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<6 {
            let process = try HeraldProcess(["run", file], in: fixture.folder)
            usleep(UInt32.random(in: 80_000...450_000, using: &random))
            process.signal(SIGKILL)
            let result = process.wait()
            if result.status == 128 + SIGKILL { kills += 1 }
        }
        #expect(kills >= 4, "the process should usually still be sending when killed")
        let delivered = try outbox(fixture).count
        #expect(delivered > 0 && delivered < expected.count, "kills happened mid-run (\(delivered) delivered)")

        var final: HeraldProcess.Result?
        for _ in 0..<3 {
            let result = try HeraldProcess.run(["resume", "crash"], in: fixture.folder)
            final = result
            if result.status == 0 { break }
        }
        #expect(final?.status == 0, "\(final?.stdout ?? "")\n\(final?.stderr ?? "")")

        let lines = try outbox(fixture)
        var perDestination: [String: Int] = [:]
        for line in lines { perDestination[line.destination, default: 0] += 1 }
        let twice = perDestination.filter { $0.value > 1 }
        #expect(twice.count == 0, "numbers delivered more than once")
        #expect(Set(perDestination.keys) == expected)
        #expect(Set(lines.map(\.idempotency_key)).count == lines.count)

        let status = try status(fixture)
        let counts = status["counts"] as! [String: Int]
        #expect(status["state"] as? String == "completed")
        #expect(counts["sent"] == lines.count)
        #expect(counts["skipped"] == 4)
        #expect(counts["sending"] == 0 && counts["in_doubt"] == 0 && counts["pending"] == 0)
    }

    /// The trial that found the v3 bug: lost answers, server errors and SIGKILLs. A row
    /// whose answer was lost (or whose process died) is never marked failed later, so
    /// no delivered row is reported failed and every delivered row ends sent.
    @Test func sigkillWithLostAnswersAndServerErrorsNeverReportsADeliveredRowFailed() throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(3000)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "lossy", provider: "{kind: simulator, latency_ms: \"1-3\", outbox: outbox.jsonl, seed: 5, failure_rate: 0.05, lost_answer_rate: 0.03}",
            extra: "rate: {max_in_flight: 4}\nretry: {max_attempts: 1}")
        var random = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let process = try HeraldProcess(["run", file], in: fixture.folder)
            usleep(UInt32.random(in: 80_000...400_000, using: &random))
            process.signal(SIGKILL)
            _ = process.wait()
        }
        var last: HeraldProcess.Result?
        for attempt in 0..<40 {
            // A new seed for each resume, or the last row in doubt meets the same error each time.
            let text = try String(contentsOfFile: fixture.path(file), encoding: .utf8)
            try fixture.write(file, text.replacingOccurrences(of: "seed: \(5 + attempt),", with: "seed: \(6 + attempt),"))
            let result = try HeraldProcess.run(["resume", "lossy"], in: fixture.folder)
            last = result
            #expect(result.status == 0 || result.status == 6, "\(result.stdout)\n\(result.stderr)")
            if result.status == 0 { break }
        }
        #expect(last?.status == 0, "in-doubt rows are resent until settled")
        let lines = try outbox(fixture)
        #expect(Set(lines.map(\.idempotency_key)).count == lines.count, "each message delivered once")
        let delivered = Set(lines.map { Int($0.idempotency_key.split(separator: "/").last!)! })
        let journal = try Journal(path: fixture.path(".herald/journal.sqlite"), create: false)
        let record = try #require(try journal.campaign(id: "lossy"))
        let failed = try journal.rows(cid: record.cid, in: .failed, limit: 3000)
        #expect(!failed.isEmpty, "5% server errors with one attempt fail some rows")
        #expect(failed.filter { delivered.contains($0.row) }.map(\.row) == [], "rows reported failed were delivered")
        let counts = try journal.counts(cid: record.cid)
        #expect(counts[.sent] == lines.count && counts[.inDoubt] == 0)
        #expect(try journal.checkCounters(cid: record.cid).isEmpty)
    }

    @Test func sigintStopsCleanlyAndResumeFinishes() throws {
        let fixture = try CLIFixture()
        let (file, expected) = try makeCampaign(fixture)
        let process = try HeraldProcess(["run", file], in: fixture.folder)
        usleep(400_000)
        process.signal(SIGINT)
        let stopped = process.wait()
        #expect(stopped.status == 130, "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(stopped.stdout.contains("stopped by signal; `herald resume crash` continues"))
        let status = try status(fixture)
        let counts = status["counts"] as! [String: Int]
        #expect(status["state"] as? String == "stopped")
        #expect(counts["sending"] == 0 && counts["in_doubt"] == 0)
        #expect(counts["sent"] == (try outbox(fixture).count))

        let resumed = try HeraldProcess.run(["resume", "crash"], in: fixture.folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let lines = try outbox(fixture)
        #expect(lines.count == expected.count)
        #expect(Set(lines.map(\.destination)) == expected)
    }

    @Test func secondSignalExitsAtOnceAndJournalStaysConsistent() throws {
        let fixture = try CLIFixture()
        let (file, expected) = try makeCampaign(fixture)
        let process = try HeraldProcess(["run", file], in: fixture.folder)
        usleep(300_000)
        process.signal(SIGTERM)
        process.signal(SIGTERM)
        let result = process.wait()
        #expect(result.status == 143)
        let resumed = try HeraldProcess.run(["resume", "crash"], in: fixture.folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let lines = try outbox(fixture)
        #expect(lines.count == expected.count)
        #expect(Set(lines.map(\.destination)) == expected)
    }

    @Test func sigkillAtTheBudgetBoundaryNeverOverspends() throws {
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(1500)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\n*,sms,0.01\n")
        // $6.00 at $0.01 a message: exactly 600 of 1,500 may be sent.
        let file = try fixture.campaign(
            "capped", provider: "{kind: simulator, latency_ms: \"1-3\", outbox: outbox.jsonl}",
            extra: "prices: prices.csv\nbudget: {campaign_limit: 6.00}\nrate: {max_in_flight: 4}")
        for delay in [120_000, 250_000, 330_000] as [UInt32] {
            let process = try HeraldProcess(["run", file], in: fixture.folder)
            usleep(delay)
            process.signal(SIGKILL)
            _ = process.wait()
        }
        var result = try HeraldProcess.run(["resume", "capped"], in: fixture.folder)
        #expect(result.status == 7, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("budget: the next message would pass campaign_limit"))
        let delivered = try outbox(fixture)
        #expect(delivered.count == 600)
        #expect(Set(delivered.map(\.destination)).count == 600)
        let status = try HeraldProcess.run(["status", "capped", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        #expect(object["state"] as? String == "budget_exhausted")
        let spend = object["spend"] as! [String: Any]
        #expect(spend["spent"] as? String == "6.00" && spend["reserved"] as? String == "0.00")
        // The report lists the 900 rows the budget left unsent, with example lines.
        let report = try HeraldProcess.run(["report", "capped", "--json"], in: fixture.folder)
        let reasons = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["reasons"] as? [[String: Any]]
        let unsent = reasons?.first { $0["state"] as? String == "not sent" }
        #expect(unsent?["reason"] as? String == "budget_exhausted" && unsent?["count"] as? Int == 900
            && (unsent?["examples"] as? [Int])?.count == 5, "\(report.stdout.prefix(2000))")
        // Raising the limit lets it finish.
        try fixture.write("capped.yaml", try String(contentsOfFile: fixture.path("capped.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "campaign_limit: 6.00", with: "campaign_limit: 15.00"))
        result = try HeraldProcess.run(["resume", "capped"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        let final = try outbox(fixture)
        #expect(final.count == 1500, "\(result.stdout)")
        #expect(Set(final.map(\.destination)).count == 1500)
    }
}

/// SIGKILL of a real `herald` sending RCS through the Agile adapter to a loopback
/// server that, like Agile, delivers each messageId once: resumed runs resend the
/// rows left in doubt, and every recipient gets exactly one message.
@Suite(.serialized) struct AgileCrashTests {
    @Test func sigkillMidCampaignThenResumeDeliversEachRecipientOnce() async throws {
        let delivered = DeliveryLog()
        let server = try await LoopbackServer { request in
            let json = request.json
            _ = delivered.record(id: json["messageId"] as? String ?? "", destination: json["destination"] as? String ?? "")
            return .respond(status: 200, body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#)
        }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(600)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("template.yaml", """
            id: t
            channel: rcs
            variables: {name: {type: string, required: true}, code: {type: string, required: true}}
            rcs:
              text: "Hi <name>, your code is <code>"
              suggestions: [{type: reply, text: "Use <code>"}]
            """)
        try fixture.write("agile.yaml", """
            id: agile
            template: template.yaml
            recipients: recipients.csv
            provider: {kind: agile, endpoint: "\(server.url)", agent_id: 7}
            rate: {messages_per_second: 400, max_in_flight: 8}
            """)
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": "journal.sqlite"]
        var random = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<3 {
            let process = try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment)
            usleep(UInt32.random(in: 150_000...400_000, using: &random))
            process.signal(SIGKILL)
            if process.wait().status == 128 + SIGKILL { kills += 1 }
        }
        #expect(kills >= 2, "the process should usually still be sending when killed")
        #expect(delivered.destinations.count < rows.count, "kills happened mid-run")
        let final = try HeraldProcess.run(["resume", "agile"], in: fixture.folder, environment: environment)
        #expect(final.status == 0, "\(final.stdout)\n\(final.stderr)")
        #expect(final.stdout.contains("600 sent, 0 failed, 0 skipped, 0 in doubt"), "\(final.stdout)")
        let destinations = delivered.destinations
        #expect(destinations.count == rows.count && Set(destinations) == Set(rows.map { $0.phone }),
                "each recipient delivered exactly once")
        #expect(server.requests.count >= rows.count, "rows left in doubt by a kill were sent again")
        try await server.shutdown()
    }
}
