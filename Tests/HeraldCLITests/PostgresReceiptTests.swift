import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Delivery receipts through the binary on a PostgreSQL journal: two receivers serve one
/// journal (as behind a load balancer), each callback arrives while its row is still being
/// sent (the provider posts it before it answers), and every one is recorded once and
/// counted when the row is settled.
@Suite struct PostgresReceiptTests {
    @Test func twoReceiversOnOneJournalKeepCallbacksThatArriveBeforeTheRowIsSettled() async throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
        let fixture = try CLIFixture()
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let first = try ReceiptServerProcess(fixture, environment: environment, journal: url)
        let second = try ReceiptServerProcess(fixture, environment: environment, journal: url)
        #expect(first.token == second.token, "one token per journal, whoever made it")
        let receivers = [first, second]
        let posted = Mutex<(count: Int, failures: [String])>((0, []))
        // An Agile-like provider that, before it answers a send, posts the message's DELIVERY
        // (and for every fifth, its READ) to one of the receivers and waits for the 204.
        let server = try await LoopbackServer { request in
            let id = request.json["messageId"] as? String ?? ""
            let index = posted.withLock { state -> Int in
                state.count += 1
                return state.count
            }
            var bodies = [#"{"channel":"RCS","eventType":"DELIVERY","messageId":"\#(id)","statusCode":\#(index % 10 == 0 ? 6 : 3),"eventDate":"2026-11-30T10:42:18Z"}"#]
            if index % 5 == 1 { bodies.append(#"{"channel":"RCS","eventType":"READ","messageId":"\#(id)","eventDate":"2026-11-30T10:43:05Z"}"#) }
            for body in bodies {
                let answer = receivers[index % 2].post("agile", body)
                if answer?.status != 204 { posted.withLock { $0.failures.append("\(answer?.status ?? 0) for \(id)") } }
            }
            return .respond(status: 200, body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#)
        }
        let provider = PostgresClusterTests.DedupingProvider(log: .init(), server: server)
        let phones = try PostgresClusterTests.agileCampaign(fixture, rows: 200, provider: provider, rate: "{max_in_flight: 8}")
        let run = try HeraldProcess.run(["run", "agile.yaml"], in: fixture.folder, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(posted.withLock { $0.failures }.isEmpty, "\(posted.withLock { $0.failures })")

        // A recipient replies STOP through the second receiver: listed for every sender.
        let stop = second.post("agile", #"{"eventType":"INBOUND","source":"\#(phones[3])","text":"STOP","receivedDate":"2026-11-30T11:00:00Z"}"#)
        #expect(stop?.status == 204)
        let check = try HeraldProcess.run(["suppress", "check", phones[3]], in: fixture.folder, environment: environment)
        #expect(check.stdout.contains("reply"), "\(check.stdout)\n\(check.stderr)")

        let status = try PostgresClusterTests.status(fixture, "agile", environment)
        let counts = status["counts"] as? [String: Int] ?? [:]
        let delivery = status["delivery"] as? [String: Any] ?? [:]
        #expect(counts["sent"] == 200, "\(status)")
        #expect(delivery["delivered"] as? Int == 180 && delivery["undelivered"] as? Int == 20, "\(delivery)")
        #expect(delivery["read"] as? Int == 40 && delivery["waiting_for_receipt"] as? Int == 0, "\(delivery)")
        let all = try HeraldProcess.run(["status", "--json"], in: fixture.folder, environment: environment)
        let totals = (try? JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect(totals["replies"] as? [String: Int] == ["agile": 1], "\(all.stdout)")
        #expect((totals["unmatched_receipts"] as? [String: Int] ?? [:]).isEmpty, "\(all.stdout)")

        let report = try HeraldProcess.run(["report", "agile", "--json"], in: fixture.folder, environment: environment)
        #expect(report.status == 0 && report.stdout.contains("\"delivered\""), "\(report.stderr)")
        let doctor = try HeraldProcess.run(["doctor", "agile"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        let firstStop = first.stop(), secondStop = second.stop()
        #expect(firstStop.status == 0 && secondStop.status == 0, "\(firstStop.stderr)\n\(secondStop.stderr)")
        // 200 deliveries and 40 reads between them, one reply.
        let matched = [firstStop, secondStop].compactMap { result -> Int? in
            guard let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("receipts: ") && $0.contains("matched") }) else { return nil }
            return Int(line.split(separator: " ")[1])
        }
        #expect(matched.reduce(0, +) == 240, "\(firstStop.stdout)\n\(secondStop.stdout)")
        try await server.shutdown()
    }

    /// The simulator's receipts (`provider.receipts`) on a PostgreSQL journal: every sent
    /// message gets its events, and `status` counts them.
    @Test func simulatedReceiptsOnPostgreSQL() throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(50).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "simulated", provider: "{kind: simulator, receipts: {delivered: 0.8, undelivered: 0.2, read: 0.5, latency_ms: \"1-20\"}}")
        let environment = ["HERALD_JOURNAL": url]
        let run = try HeraldProcess.run(["run", file], in: fixture.folder, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let status = try PostgresClusterTests.status(fixture, "simulated", environment)
        let delivery = status["delivery"] as? [String: Any] ?? [:]
        let final = (delivery["delivered"] as? Int ?? 0) + (delivery["undelivered"] as? Int ?? 0)
        #expect((status["counts"] as? [String: Int])?["sent"] == 50 && final == 50, "\(status)")
        #expect(delivery["waiting_for_receipt"] as? Int == 0, "\(delivery)")
    }

    /// Two dashboards (`herald serve`) on one PostgreSQL journal while a third process sends:
    /// both see it run, a pause from one stops the sender, and the other shows it paused,
    /// resumes and cancels it; reports, recipients and /metrics come from the same journal.
    @Test func twoDashboardsServeOnePostgreSQLJournal() throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3000).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("live", provider: "{kind: simulator, receipts: {delivered: 0.97, undelivered: 0.03, latency_ms: 5}}",
                                        extra: "rate: {messages_per_second: 300, max_in_flight: 8}")
        let environment = ["HERALD_JOURNAL": url]
        let sender = try HeraldProcess(["run", file], in: fixture.folder, environment: environment)
        let token = DashboardTests.token
        let one = try ReceiptServerProcess(fixture, arguments: ["--auth-token", token], environment: environment, dashboard: true,
                                           journal: url)
        let other = try ReceiptServerProcess(fixture, arguments: ["--auth-token", token], environment: environment, dashboard: true,
                                             journal: url)
        defer { _ = one.stop(); _ = other.stop() }
        let dashboard = DashboardTests()
        var rows: [[String: Any]] = []
        for _ in 0..<200 {
            rows = try dashboard.campaigns(other)
            if rows.first?["state"] as? String == "running", (rows.first?["sent"] as? Int ?? 0) > 50 { break }
            usleep(50_000)
        }
        #expect(rows.first?["campaign"] as? String == "live" && rows.first?["state"] as? String == "running", "\(rows)")
        #expect(try dashboard.campaigns(one).first?["total"] as? Int == 3000)
        #expect(dashboard.post(one, "/campaigns/live/pause")?.status == 200)
        let paused = sender.wait(timeout: 30)
        #expect(paused.status == 8, "the sender stops paused: \(paused.stdout)\n\(paused.stderr)")
        #expect(try dashboard.campaigns(other).first?["state"] as? String == "paused")
        #expect(dashboard.post(other, "/campaigns/live/resume")?.status == 200)
        #expect(try dashboard.campaigns(one).first?["state"] as? String == "scheduled")
        #expect(dashboard.post(one, "/campaigns/live/cancel")?.status == 200)
        #expect(try dashboard.campaigns(other).first?["state"] as? String == "cancelled")
        let report = try #require(dashboard.get(other, "/campaigns/live/report.html"))
        #expect(report.status == 200 && report.body.contains("id=\"funnel-title\""))
        let csv = try #require(dashboard.get(one, "/campaigns/live/recipients.csv"))
        #expect(csv.status == 200 && csv.body.contains("2,+1******0100,US,"))
        let metrics = try #require(dashboard.get(one, "/metrics")?.body)
        #expect(metrics.contains("herald_messages{campaign=\"live\",state=\"sent\"}"), "\(metrics.prefix(500))")
    }
}
