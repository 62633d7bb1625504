import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Everything at once on the CI PostgreSQL cluster, as a team runs it: three `herald
/// worker`s share a scheduled campaign of 20,000 recipients (plus bad and repeated lines)
/// under a campaign limit; one worker is SIGKILLed twice and started again; a receiver on
/// the same journal takes the provider's callbacks, which come while rows are still
/// being sent, in doubt or waiting to be sent again. At the end `herald report --json`
/// accounts for every CSV line and every event the provider sent.
@Suite struct WholeStoryTests {
    /// The provider's callbacks, posted in batches by a thread of their own as a provider
    /// would (never holding up a send), until the queue is empty and `finished` is set.
    final class Callbacks: Sendable {
        struct Tally {
            var queue: [String] = []
            var delivered = 0
            var undelivered = 0
            var read = 0
            var posted = 0
            var failures: [String] = []
            var finished = false
        }

        let state = Mutex(Tally())
        let done = DispatchSemaphore(value: 0)

        /// Called for the first send of each message: its fate, decided by its order.
        func sent(id: String, index: Int) {
            let undelivered = index % 10 == 3
            var bodies = [#"{"channel":"RCS","eventType":"DELIVERY","messageId":"\#(id)","statusCode":\#(undelivered ? 6 : 3),"eventDate":"2026-11-30T10:42:18Z"}"#]
            if !undelivered, index % 4 == 0 {
                bodies.append(#"{"channel":"RCS","eventType":"READ","messageId":"\#(id)","eventDate":"2026-11-30T10:43:05Z"}"#)
            }
            state.withLock {
                $0.queue += bodies
                if undelivered { $0.undelivered += 1 } else { $0.delivered += 1 }
                if bodies.count == 2 { $0.read += 1 }
            }
        }

        func start(to receiver: ReceiptServerProcess) {
            Thread.detachNewThread { [self] in
                while true {
                    let (batch, finished) = state.withLock { tally -> ([String], Bool) in
                        let batch = Array(tally.queue.prefix(200))
                        tally.queue.removeFirst(batch.count)
                        return (batch, tally.finished)
                    }
                    if batch.isEmpty {
                        if finished { break }
                        usleep(20_000)
                        continue
                    }
                    let answer = receiver.post("agile", "[" + batch.joined(separator: ",") + "]")
                    state.withLock { tally in
                        if answer?.status == 204 {
                            tally.posted += batch.count
                        } else {
                            tally.failures.append("\(answer?.status ?? 0)")
                            tally.queue.insert(contentsOf: batch, at: 0)  // sent again, as a provider retries
                        }
                    }
                }
                done.signal()
            }
        }
    }

    @Test func threeWorkersTwoKillsAndAReceiverAccountForEveryRow() async throws {
        guard let url = try PostgresClusterTests.database(leaseTimeout: 2) else { return }
        let fixture = try CLIFixture()
        let environment = ["AGILE_API_KEY": "test-key-not-a-secret", "HERALD_JOURNAL": url]
        let recipients = CLIFixture.rows(20_000)
        let lines = recipients.map(\.line) + (0..<10).map { "not-a-number-\($0),Nobody,C000" } + recipients.prefix(10).map(\.line)
        try fixture.write("recipients.csv", "phone,name,code\n" + lines.joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\n*,rcs,0.01\n")
        let receiver = try ReceiptServerProcess(fixture, environment: environment, journal: url)
        let callbacks = Callbacks()
        callbacks.start(to: receiver)
        // An Agile-like provider that delivers each message id once (it honours the id as an
        // idempotency key) and then sends its callbacks.
        let delivered = DeliveryLog()
        let requests = Mutex(0)
        let server = try await LoopbackServer { request in
            let json = request.json
            let id = json["messageId"] as? String ?? ""
            requests.withLock { $0 += 1 }
            if delivered.record(id: id, destination: json["destination"] as? String ?? "") {
                callbacks.sent(id: id, index: delivered.destinations.count)
            }
            return .respond(status: 200, body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#)
        }
        try PostgresClusterTests.writeAgileCampaign(fixture, endpoint: server.url, rate: "{max_in_flight: 16}",
                                                    extra: "\nprices: prices.csv\nbudget: {campaign_limit: 1000.00}\n")
        let scheduled = try HeraldProcess.run(["schedule", "agile.yaml"], in: fixture.folder, environment: environment)
        #expect(scheduled.status == 0, "\(scheduled.stdout)\n\(scheduled.stderr)")
        func worker() throws -> HeraldProcess { try HeraldProcess(["worker", "--poll", "0.2"], in: fixture.folder, environment: environment) }
        var workers = [try worker(), try worker(), try worker()]
        var kills = 0
        for threshold in [4_000, 10_000] {
            let deadline = Date().addingTimeInterval(120)
            while delivered.destinations.count < threshold, Date() < deadline { usleep(20_000) }
            workers[2].signal(SIGKILL)
            if workers[2].wait(timeout: 30).status == 128 + SIGKILL { kills += 1 }
            workers[2] = try worker()
        }
        #expect(kills == 2)
        // Until the workers have finished the campaign and the provider's callbacks are in.
        let deadline = Date().addingTimeInterval(300)
        var status: [String: Any] = [:]
        while Date() < deadline {
            status = try PostgresClusterTests.status(fixture, "agile", environment)
            if status["state"] as? String == "completed" { break }
            usleep(200_000)
        }
        #expect(status["state"] as? String == "completed", "\(status)")
        callbacks.state.withLock { $0.finished = true }
        #expect(callbacks.done.wait(timeout: .now() + 120) == .success)
        for process in workers { process.signal(SIGTERM) }
        for outcome in workers.map({ $0.wait(timeout: 60) }) { #expect(outcome.status == 0, "\(outcome.stderr)") }
        let receiverExit = receiver.stop()
        #expect(receiverExit.status == 0, "\(receiverExit.stderr)")
        try await server.shutdown()

        // The provider: every recipient exactly once.
        #expect(delivered.destinations.count == 20_000 && Set(delivered.destinations).count == 20_000)
        let tally = callbacks.state.withLock { $0 }
        #expect(tally.failures.isEmpty && tally.posted == tally.delivered + tally.undelivered + tally.read, "\(tally.failures)")

        // The report: every CSV line sent once or skipped with its reason; every event counted.
        let report = try HeraldProcess.run(["report", "agile", "--json"], in: fixture.folder, environment: environment)
        #expect(report.status == 0, "\(report.stderr)")
        let json = (try? JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]) ?? [:]
        let counts = json["counts"] as? [String: Int] ?? [:]
        #expect(counts.values.reduce(0, +) == lines.count, "\(counts)")
        #expect(counts["sent"] == 20_000 && counts["skipped"] == 20, "\(counts)")
        for state in ["in_doubt", "sending", "pending", "retry", "failed"] { #expect(counts[state] ?? 0 == 0, "\(state): \(counts)") }
        let reasons = (json["reasons"] as? [[String: Any]] ?? []).reduce(into: [String: Int]()) {
            $0[$1["reason"] as? String ?? ""] = $1["count"] as? Int
        }
        #expect(reasons == ["bad_number": 10, "duplicate": 10], "\(reasons)")
        let delivery = json["delivery"] as? [String: Int] ?? [:]
        #expect(delivery["delivered"] == tally.delivered && delivery["undelivered"] == tally.undelivered, "\(delivery)")
        #expect(delivery["read"] == tally.read, "\(delivery)")
        let spend = json["spend"] as? [String: Any] ?? [:]
        let spent = Decimal(string: spend["spent"] as? String ?? "") ?? -1
        #expect(abs(spent - 200) <= Decimal(string: "0.01")!, "spend \(spend) for 20,000 messages at $0.01")
        #expect(spend["reserved"] as? String == "0.00", "\(spend)")
        let all = try HeraldProcess.run(["status", "--json"], in: fixture.folder, environment: environment)
        let totals = (try? JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect((totals["unmatched_receipts"] as? [String: Int] ?? [:]).isEmpty, "every callback found its message: \(all.stdout)")
        let doctor = try HeraldProcess.run(["doctor", "agile"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        print("whole story: \(requests.withLock { $0 }) requests for 20,000 recipients, \(tally.posted) callbacks")
    }
}
