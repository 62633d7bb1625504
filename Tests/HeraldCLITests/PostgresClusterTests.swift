import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Several real `herald` processes sending one campaign on a PostgreSQL journal (a database
/// of its own per test on `HERALD_TEST_POSTGRES_URL`, which `.ci/with-postgres` provides).
@Suite(.serialized) struct PostgresClusterTests {
    /// A fresh database's URL with a short lease timeout, or nil (noted; a failure in CI).
    static func database(leaseTimeout: Int = 2) throws -> String? {
        guard TestPostgres.baseURL != nil else {
            if TestPostgres.required { Issue.record("\(TestPostgres.skipNote); CI must run them") } else { print(TestPostgres.skipNote) }
            return nil
        }
        return try TestPostgres.freshDatabase("herald_cli") + "?sslmode=disable&lease_timeout=\(leaseTimeout)"
    }

    /// An Agile-like loopback provider: delivers each messageId once, notes when each request came.
    struct DedupingProvider {
        final class Log: Sendable {
            let delivered = DeliveryLog()
            let arrivals = Mutex<[Double]>([])
            let requestsPerID = Mutex<[String: Int]>([:])
        }

        let log: Log
        let server: LoopbackServer
        var delivered: DeliveryLog { log.delivered }

        static func start() async throws -> DedupingProvider {
            let log = Log()
            let server = try await LoopbackServer { request in
                let json = request.json
                let id = json["messageId"] as? String ?? ""
                log.arrivals.withLock { $0.append(Date().timeIntervalSince1970) }
                log.requestsPerID.withLock { $0[id, default: 0] += 1 }
                _ = log.delivered.record(id: id, destination: json["destination"] as? String ?? "")
                return .respond(status: 200, body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#)
            }
            return DedupingProvider(log: log, server: server)
        }
    }

    /// An RCS campaign of `rows` recipients through the Agile adapter to `provider`.
    static func agileCampaign(_ fixture: CLIFixture, rows: Int, provider: DedupingProvider, rate: String) throws -> [String] {
        let list = CLIFixture.rows(rows)
        try fixture.write("recipients.csv", "phone,name,code\n" + list.map(\.line).joined(separator: "\n") + "\n")
        try writeAgileCampaign(fixture, endpoint: provider.server.url, rate: rate)
        return list.map(\.phone)
    }

    /// `template.yaml` (RCS) and `agile.yaml` for recipients.csv, through Agile at `endpoint`.
    static func writeAgileCampaign(_ fixture: CLIFixture, endpoint: String, rate: String, extra: String = "") throws {
        try fixture.write("template.yaml", """
            id: t
            channel: rcs
            variables: {name: {type: string, required: true}, code: {type: string, required: true}}
            rcs:
              text: "Hi <name>, your code is <code>"
            """)
        try fixture.write("agile.yaml", """
            id: agile
            template: template.yaml
            recipients: recipients.csv
            provider: {kind: agile, endpoint: "\(endpoint)", agent_id: 7}
            rate: \(rate)
            """ + extra)
    }

    static func status(_ fixture: CLIFixture, _ id: String, _ environment: [String: String]) throws -> [String: Any] {
        let result = try HeraldProcess.run(["status", id, "--json"], in: fixture.folder, environment: environment)
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func threeSendersOneKilledTwiceDeliverEveryRecipientExactlyOnce() async throws {
        guard let url = try Self.database() else { return }
        let provider = try await DedupingProvider.start()
        let fixture = try CLIFixture()
        let phones = try Self.agileCampaign(fixture, rows: 30_000, provider: provider, rate: "{max_in_flight: 16}")
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let steady = [try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment),
                      try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment)]
        var kills = 0
        for _ in 0..<2 {
            let victim = try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment)
            // Killed once it is sending (some rows of its own in flight).
            let deadline = Date().addingTimeInterval(60)
            let before = provider.delivered.destinations.count
            while provider.delivered.destinations.count < before + 3000, Date() < deadline { usleep(20_000) }
            victim.signal(SIGKILL)
            if victim.wait().status == 128 + SIGKILL { kills += 1 }
        }
        #expect(kills == 2)
        let restarted = try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment)
        var outcomes = steady.map { $0.wait(timeout: 300) }
        outcomes.append(restarted.wait(timeout: 300))
        for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)") }
        let destinations = provider.delivered.destinations
        #expect(destinations.count == phones.count, "every recipient once")
        #expect(Set(destinations) == Set(phones) ? true : false, "the recipients are the campaign's")
        let status = try Self.status(fixture, "agile", environment)
        let counts = status["counts"] as? [String: Int] ?? [:]
        #expect(counts["sent"] == 30_000 && counts["in_doubt"] == 0 && counts["sending"] == 0, "\(status)")
        #expect(status["state"] as? String == "completed")
        try await provider.server.shutdown()
    }

    @Test func fourSendersSpendExactlyTheCampaignLimit() throws {
        guard let url = try Self.database() else { return }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(1200)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\n*,sms,0.01\n")
        let file = try fixture.campaign("budget", provider: "{kind: simulator, latency_ms: \"1-4\"}", extra: """
            prices: prices.csv
            budget: {campaign_limit: 5.00}
            rate: {max_in_flight: 4}
            """)
        let environment = ["HERALD_JOURNAL": url]
        let senders = try (0..<4).map { _ in try HeraldProcess(["run", file], in: fixture.folder, environment: environment) }
        for outcome in senders.map({ $0.wait(timeout: 300) }) {
            #expect([0, 7].contains(outcome.status), "\(outcome.stdout)\n\(outcome.stderr)")
        }
        let status = try Self.status(fixture, "budget", environment)
        let spend = status["spend"] as? [String: Any] ?? [:]
        #expect(spend["spent"] as? String == "5.00", "\(spend)")
        #expect((status["counts"] as? [String: Int])?["sent"] == 500, "\(status)")
        #expect(status["state"] as? String == "budget_exhausted")
    }

    /// Two senders of one campaign with two providers, the first refusing every connection: the
    /// sender that finds it down demotes it and the other, started after, leaves it alone from
    /// its first message (it never tries it itself), and every row goes through the second.
    @Test func aProviderOneSenderDemotesIsLeftAloneByTheOther() throws {
        guard let url = try Self.database() else { return }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(300)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("template.yaml", CLIFixture.template)
        try fixture.write("routed.yaml", """
            id: routed
            template: template.yaml
            recipients: recipients.csv
            routing: ordered
            providers:
              - {name: down, kind: simulator, outbox: down.jsonl, unreachable_rate: 1}
              - {name: up, kind: simulator, outbox: up.jsonl}
            rate: {messages_per_second: 100, max_in_flight: 2}
            failover: {cool_down_seconds: 120}
            """)
        let environment = ["HERALD_JOURNAL": url]
        let first = try HeraldProcess(["run", "routed.yaml"], in: fixture.folder, environment: environment)
        // The first sender has met the outage once its demotion is in the journal.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try Self.status(fixture, "routed", environment)["demoted"] as? [[String: Any]])?.isEmpty ?? true {
            usleep(50_000)
        }
        let second = try HeraldProcess(["run", "routed.yaml"], in: fixture.folder, environment: environment)
        let (one, two) = (first.wait(timeout: 120), second.wait(timeout: 120))
        #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
        #expect(one.stderr.contains("provider \"down\" demoted for 120 s: a request never reached it"), "\(one.stderr)")
        #expect(two.stderr.contains("provider \"down\" demoted for") && two.stderr.contains("by another sender of the campaign"), "\(two.stderr)")
        #expect(!two.stderr.contains(" s: a request never reached it"), "the second sender never tried it: \(two.stderr)")
        let status = try Self.status(fixture, "routed", environment)
        #expect((status["counts"] as? [String: Int])?["sent"] == 300, "\(status)")
        let down = (try? String(contentsOfFile: fixture.path("down.jsonl"), encoding: .utf8)) ?? ""
        #expect(down.isEmpty, "the provider that is down took nothing")
    }

    @Test func threeSendersKeepTheCombinedRate() async throws {
        guard let url = try Self.database() else { return }
        let provider = try await DedupingProvider.start()
        let fixture = try CLIFixture()
        let rate = 300.0, burst = 10.0
        let phones = try Self.agileCampaign(fixture, rows: 3600, provider: provider,
                                            rate: "{messages_per_second: \(Int(rate)), burst: \(Int(burst)), max_in_flight: 16}")
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let senders = try (0..<3).map { _ in try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment) }
        // One sender freezes twice while it holds slots (a GC-like pause, a stalled VM): it
        // forfeits the slots it missed instead of sending them all at once when it thaws.
        let deadline = Date().addingTimeInterval(60)
        while provider.delivered.destinations.count < 600, Date() < deadline { usleep(10_000) }
        for freeze in [300_000, 700_000] as [useconds_t] {
            senders[0].signal(SIGSTOP)
            usleep(freeze)
            senders[0].signal(SIGCONT)
            usleep(1_500_000)
        }
        for outcome in senders.map({ $0.wait(timeout: 300) }) { #expect(outcome.status == 0, "\(outcome.stderr)") }
        #expect(provider.delivered.destinations.count == phones.count)
        let repeated = provider.log.requestsPerID.withLock { $0.values.filter { $0 > 1 }.count }
        #expect(repeated == 0)
        let times = provider.log.arrivals.withLock { $0 }.sorted()
        let span = times.last! - times.first!
        // The first few go at once (the burst); the rest a little under the rate (Pacing.margin),
        // less the slots the frozen sender forfeited (its claimed quarter-second, twice: ~4%).
        let measured = Double(times.count - 1 - Int(burst)) / span
        #expect(measured <= rate && measured >= rate * 0.9, "combined rate \(measured) msg/s")
        let worst = PacingTests.busiestSecond(times)
        #expect(Double(worst) <= rate + burst, "a one-second window held \(worst) requests")
        print("combined rate \(measured) msg/s, busiest second \(worst) requests, over \(span) s")
        try await provider.server.shutdown()
    }

    @Test func twoWorkersJoinAScheduledCampaignAndBothStopWithinASecondOfAPause() async throws {
        guard let url = try Self.database() else { return }
        let provider = try await DedupingProvider.start()
        let fixture = try CLIFixture()
        let phones = try Self.agileCampaign(fixture, rows: 2000, provider: provider, rate: "{messages_per_second: 200, max_in_flight: 8}")
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let scheduled = try HeraldProcess.run(["schedule", "agile.yaml"], in: fixture.folder, environment: environment)
        #expect(scheduled.status == 0, "\(scheduled.stderr)")
        let workers = try (0..<2).map { _ in try HeraldProcess(["worker", "--poll", "0.2"], in: fixture.folder, environment: environment) }
        defer {
            for worker in workers { worker.signal(SIGKILL); _ = worker.wait() }
        }
        let deadline = Date().addingTimeInterval(60)
        while provider.delivered.destinations.count < 400, Date() < deadline { usleep(20_000) }
        let status = try Self.status(fixture, "agile", environment)
        #expect(status["state"] as? String == "running")
        let pause = try HeraldProcess.run(["pause", "agile"], in: fixture.folder, environment: environment)
        #expect(pause.status == 0, "\(pause.stderr)")
        usleep(1_000_000)
        let afterASecond = provider.delivered.destinations.count
        usleep(1_500_000)
        #expect(provider.delivered.destinations.count == afterASecond, "nothing is sent a second after the pause")
        #expect(afterASecond < phones.count)
        let paused = try Self.status(fixture, "agile", environment)
        #expect(paused["state"] as? String == "paused", "\(paused)")
        // Both workers were sending it: each recorded a run.
        let database = String(url.prefix { $0 != "?" })
        #expect(try TestPostgres.query(database, "SELECT count(DISTINCT pid)::text FROM herald.run WHERE sent > 0") == ["2"])
        let resumed = try HeraldProcess.run(["resume", "agile"], in: fixture.folder, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(provider.delivered.destinations.count == phones.count)
        let repeated = provider.log.requestsPerID.withLock { $0.values.filter { $0 > 1 }.count }
        #expect(repeated == 0)
        try await provider.server.shutdown()
    }

    /// A sender of an RCS campaign of `rows` through a deduping Agile loopback at `rate`
    /// messages/s on the journal `url`, once the provider has taken `until` of them (or a minute).
    static func sending(rows: Int, rate: Int, journal url: String, until: Int) async throws
        -> (provider: DedupingProvider, fixture: CLIFixture, phones: [String], environment: [String: String], sender: HeraldProcess)
    {
        let provider = try await DedupingProvider.start()
        let fixture = try CLIFixture()
        let phones = try agileCampaign(fixture, rows: rows, provider: provider, rate: "{messages_per_second: \(rate), max_in_flight: 8}")
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let sender = try HeraldProcess(["run", "agile.yaml"], in: fixture.folder, environment: environment)
        let deadline = Date().addingTimeInterval(60)
        while provider.delivered.destinations.count < until, Date() < deadline { usleep(20_000) }
        return (provider, fixture, phones, environment, sender)
    }

    /// The journal's server gone for longer than the lease timeout: the sender stops (exit 4)
    /// within about one lease timeout, saying why it could not connect again, not after one per
    /// journal call on its way out (a step, a heartbeat, the release: four timeouts); once the
    /// server takes connections again, the next run finishes the campaign, each recipient once.
    @Test func aJournalGoneLongerThanTheLeaseStopsTheSenderWithTheCause() async throws {
        guard let url = try Self.database(leaseTimeout: 4) else { return }
        let (provider, fixture, phones, environment, sender) = try await Self.sending(rows: 2000, rate: 200, journal: url, until: 300)
        // The database refuses new connections, and its sessions are ended.
        try TestPostgres.reachable(url, false)
        let cut = Date()
        let stopped = sender.wait(timeout: 60)
        let took = Date().timeIntervalSince(cut)
        try TestPostgres.reachable(url, true)
        #expect(stopped.status == 4, "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(stopped.stderr.contains("could not make it again within the lease timeout (4 s)")
                    && stopped.stderr.contains("is not currently accepting connections"), "\(stopped.stderr)")
        // One lease timeout and the way out; four of them was the chain of journal calls.
        #expect(took < 12, "stopped \(took) s after the cut")
        #expect(provider.delivered.destinations.count < phones.count, "the cut came mid-run")
        // Back: the next run takes the dead sender's rows over (the provider dedupes) and ends.
        let resumed = try HeraldProcess.run(["run", "agile.yaml"], in: fixture.folder, environment: environment, timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(provider.delivered.destinations.count == phones.count)
        #expect(Set(provider.delivered.destinations) == Set(phones) ? true : false)
        let counts = try Self.status(fixture, "agile", environment)["counts"] as? [String: Int] ?? [:]
        #expect(counts["sent"] == phones.count && counts["in_doubt"] == 0, "\(counts)")
        try await provider.server.shutdown()
    }

    @Test func aDatabaseRestartMidRunLosesNothingAndSendsNothingTwice() async throws {
        guard let url = try Self.database(leaseTimeout: 30) else { return }
        guard let restart = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_RESTART"] else {
            if TestPostgres.required { Issue.record("HERALD_TEST_POSTGRES_RESTART is not set (.ci/with-postgres sets it)") }
            return
        }
        let (provider, fixture, phones, environment, sender) = try await Self.sending(rows: 3000, rate: 600, journal: url, until: 600)
        // pg_ctl restart -m fast: every connection is cut, the server is down for a moment.
        #expect(system("'\(restart)' >/dev/null 2>&1") == 0)
        let sentBeforeEnd = provider.delivered.destinations.count
        let outcome = sender.wait(timeout: 90)
        #expect(sentBeforeEnd < phones.count, "the restart came mid-run")
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(provider.delivered.destinations.count == phones.count)
        #expect(Set(provider.delivered.destinations) == Set(phones) ? true : false, "the recipients are the campaign's")
        let repeated = provider.log.requestsPerID.withLock { $0.values.filter { $0 > 1 }.count }
        #expect(repeated == 0, "no message was requested twice")
        let counts = try Self.status(fixture, "agile", environment)["counts"] as? [String: Int] ?? [:]
        #expect(counts["sent"] == 3000 && counts["in_doubt"] == 0)
        try await provider.server.shutdown()
    }
}
