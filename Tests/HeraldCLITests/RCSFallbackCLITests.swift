import Foundation
import HeraldProviders
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// RCS to SMS through another provider, with the real binary: an RCS campaign sent directly
/// through an AWS RCS agent ARN (which AWS never falls back from) to a loopback AWS, with
/// `sms_fallback:` naming a loopback Twilio. AWS event records (`herald receipts import`, as a
/// Firehose object arrives) say some RCS messages failed or expired while the sender waits for
/// them: exactly those rows go once as SMS (their `fallback_sms`) through Twilio, priced by its
/// parts; the others never; late and repeated RCS events change nothing; the counters agree.
@Suite(.serialized) struct RCSFallbackCLITests {
    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let agent = "arn:aws:sms-voice:us-east-1:123456789012:rcs-agent/rcs-a1b2c3d4"

    /// A loopback AWS (RCS, by CSV line) and Twilio (SMS, each request's form), and a campaign
    /// `rf` of `count` rows sending RCS through the AWS agent with `sms_fallback:` to Twilio.
    final class Setup: Sendable {
        let fixture: CLIFixture
        final class Log: Sendable {
            let rcs = Mutex<[Int: Int]>([:])  // CSV line -> RCS requests
            let sms = Mutex<[[String: String]]>([])
        }

        let log = Log()
        let aws: LoopbackServer
        let twilio: LoopbackServer
        let rows: [(phone: String, line: String)]
        let environment: [String: String]

        init?(store: String, count: Int, smsDelayMs: UInt32 = 0, leaseTimeout: Int = 30, wait: Int = 60) async throws {
            var journal = "journal.sqlite"
            if store == "postgres" {
                guard let url = try PostgresClusterTests.database(leaseTimeout: leaseTimeout) else { return nil }
                journal = url
            }
            fixture = try CLIFixture()
            let log = self.log
            aws = try await LoopbackServer { request in
                let row = Int((request.json["Context"] as? [String: String])?["herald_row"] ?? "") ?? -1
                log.rcs.withLock { $0[row, default: 0] += 1 }
                // Herald sends the SMS itself: AWS is not asked to fall back too.
                if request.json["FallbackConfiguration"] != nil || request.json["RcsMessageContent"] == nil { log.rcs.withLock { $0[-1] = 1 } }
                return .respond(status: 200, body: #"{"MessageId":"rcs-\#(row)"}"#)
            }
            twilio = try await LoopbackServer { request in
                var fields: [String: String] = [:]
                for (name, value) in FormEncoding.decode(request.body) ?? [] { fields[name] = value }
                let count = log.sms.withLock { sent -> Int in
                    sent.append(fields)
                    return sent.count
                }
                if smsDelayMs > 0 { usleep(smsDelayMs * 1000) }
                return .respond(status: 201, body: #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#)
            }
            rows = CLIFixture.rows(count)
            try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
            try fixture.write("template.yaml", """
                id: t
                channel: rcs
                variables:
                  name: {type: string, required: true}
                  code: {type: string, required: true}
                rcs:
                  text: "Hi <name>, your code is <code>"
                fallback_sms: "Hi <name>, code <code> \u{2014} reply STOP to opt out"
                """)
            try fixture.write("prices.csv", "country,channel,price\nUS,rcs,0.0100\nUS,sms,0.0079\n")
            try fixture.write("rf.yaml", """
                id: rf
                template: template.yaml
                recipients: recipients.csv
                prices: prices.csv
                budget: {campaign_limit: 5}
                routing: ordered
                providers:
                  - {name: rcs, kind: aws, region: us-east-1, endpoint: "\(aws.url)", origination_identity: "\(RCSFallbackCLITests.agent)", sms_fallback: text, sms_fallback_wait: \(wait)}
                  - {name: text, kind: twilio, endpoint: "\(twilio.url)", account_sid: \(RCSFallbackCLITests.account), from: "+15550100"}
                rate: {max_in_flight: 4}
                """)
            environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
                           "TWILIO_AUTH_TOKEN": "test-auth-token-not-a-secret", "HERALD_JOURNAL": journal]
        }

        func run(_ arguments: [String]) throws -> HeraldProcess.Result {
            try HeraldProcess.run(arguments, in: fixture.folder, environment: environment)
        }

        func status() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(try run(["status", "rf", "--json"]).stdout.utf8)) as? [String: Any] ?? [:]
        }

        /// Waits (up to 30 s) until every row's RCS message reached AWS.
        func waitForRCS() async throws {
            var waited = 0
            while log.rcs.withLock({ $0.count }) < rows.count, waited < 300 {
                try await Task.sleep(for: .milliseconds(100))
                waited += 1
            }
        }

        /// AWS event records, each twice (SNS and Firehose both deliver at least once), imported:
        /// `failed` lines RCS_FAILED, `expired` RCS_TTL_EXPIRED, `blocked` RCS_PROTECT_BLOCKED
        /// (never sent again), the rest delivered.
        func importReceipts(failed: [Int], expired: [Int], blocked: [Int]) throws -> HeraldProcess.Result {
            func record(_ row: Int, _ type: String, status: String) -> String {
                #"{"eventType":"\#(type)","eventTimestamp":1764496800000,"isFinal":true,"messageId":"rcs-\#(row)","messageStatus":"\#(status)","context":{"campaign":"rf","herald_row":"\#(row)"}}"#
            }
            var records = failed.map { record($0, "RCS_FAILED", status: "FAILED") }
                + expired.map { record($0, "RCS_TTL_EXPIRED", status: "TTL_EXPIRED") }
                + blocked.map { record($0, "RCS_PROTECT_BLOCKED", status: "BLOCKED") }
            records += Set(2...(rows.count + 1)).subtracting(failed + expired + blocked).sorted().map { record($0, "RCS_DELIVERED", status: "DELIVERED") }
            try fixture.write("events.json", (records + records).joined(separator: "\n") + "\n")
            return try run(["receipts", "import", "events.json"])
        }

        func shutdown() async throws {
            try await aws.shutdown()
            try await twilio.shutdown()
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func rowsWhoseRCSFailedGoOnceAsSMSThroughTheOtherProvider(store: String) async throws {
        guard let setup = try await Setup(store: store, count: 12) else { return }
        let fixture = setup.fixture, rows = setup.rows, log = setup.log
        // The estimate says what the SMS could add at most (every RCS message failing).
        let estimate = try setup.run(["estimate", "rf.yaml"])
        #expect(estimate.stdout.contains("sms_fallback rcs -> text: if every RCS message failed, up to 12 SMS (12 parts) $0.0948 more"),
                "\(estimate.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(try setup.run(["estimate", "rf.yaml", "--json"]).stdout.utf8)) as? [String: Any]
        let fallbackLine = (json?["sms_fallback"] as? [[String: Any]])?.first
        #expect(fallbackLine?["messages"] as? Int == 12 && fallbackLine?["cost"] as? String == "0.0948", "\(fallbackLine ?? [:])")
        // A file that names a provider that cannot prove an RCS failure is refused before anything is sent.
        try fixture.write("bad.yaml", try String(contentsOfFile: fixture.path("rf.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "id: rf", with: "id: bad").replacingOccurrences(of: Self.agent, with: "pool-1"))
        let refused = try setup.run(["validate", "bad.yaml"])
        #expect(refused.status == 3 && refused.stderr.contains("bad.yaml:8: providers[0].sms_fallback: needs RCS that the provider never falls back from"),
                "\(refused.stderr)")

        // A rehearsal has no receipts to wait for: it ends when its rows are sent.
        let started = Date()
        let rehearsal = try setup.run(["run", "rf.yaml", "--simulate"])
        #expect(rehearsal.status == 0 && rehearsal.stdout.contains("12 sent") && Date().timeIntervalSince(started) < 30,
                "\(rehearsal.stdout)\n\(rehearsal.stderr)")
        #expect(log.rcs.withLock { $0.isEmpty } && log.sms.withLock { $0.isEmpty })

        // On a terminal, the check before sending says it too; answered no, nothing is sent.
        let terminal = try ConfirmationCLITests.PseudoTerminal()
        let asked = try HeraldProcess(["run", "rf.yaml"], in: fixture.folder, environment: setup.environment, terminal: terminal.device)
        let shown = try await terminal.wait(for: "[y/N]", process: asked)
        #expect(shown.contains("sms_fallback rcs -> text: if every RCS message failed, up to 12 SMS (12 parts) $0.0948 more"), "\(shown)")
        terminal.type("n\n")
        #expect(asked.wait().status == 8)
        #expect(log.rcs.withLock { $0.isEmpty })

        let sender = try HeraldProcess(["run", "rf.yaml"], in: fixture.folder, environment: setup.environment)
        // Every RCS message is out before the receipts come.
        try await setup.waitForRCS()
        #expect(log.rcs.withLock { $0.count } == 12, "12 RCS messages, none with a FallbackConfiguration")
        let failed = [2, 3, 4], expired = [5], blocked = [6]
        let imported = try setup.importReceipts(failed: failed, expired: expired, blocked: blocked)
        #expect(imported.status == 0, "\(imported.stdout)\n\(imported.stderr)")
        let run = sender.wait()
        #expect(run.status == 0 && run.stdout.contains("12 sent"), "\(run.stdout)\n\(run.stderr)")

        let texts = log.sms.withLock { $0 }
        let moved = (failed + expired).map { rows[$0 - 2] }
        #expect(texts.count == 4 && Set(texts.compactMap { $0["To"] }) == Set(moved.map(\.phone)), "\(texts)")
        #expect(texts.allSatisfy { $0["From"] == "+15550100" && $0["Body"]?.hasSuffix("reply STOP to opt out") == true }, "\(texts)")
        #expect(log.rcs.withLock { $0.values.allSatisfy { $0 == 1 } }, "no RCS message was sent twice")

        // The SMS is UCS-2 (the dash): one part of 70. 12 RCS at $0.01 and 4 SMS at $0.0079.
        let status = Optional(try setup.status())
        let spend = status?["spend"] as? [String: Any]
        #expect(spend?["spent"] as? String == "0.1516", "\(spend ?? [:])")
        // The RCS attempts of the moved rows stay with the RCS provider's cost.
        let providers = status?["providers"] as? [[String: Any]] ?? []
        #expect(providers.map { $0["cost"] as? String } == ["0.12", "0.0316"], "\(providers)")
        #expect(providers.first?["fell_back_cost"] as? String == "0.04" && providers.last?["fell_back_cost"] == nil, "\(providers)")
        let text = try setup.run(["status", "rf"]).stdout
        #expect(text.contains("cost $0.12 ($0.04 of it for RCS that fell back to SMS)"), "\(text)")
        let switches = status?["switches"] as? [[String: Any]] ?? []
        #expect(switches.count == 2 && switches.allSatisfy { $0["from"] as? String == "rcs" && $0["to"] as? String == "text" }, "\(switches)")
        #expect(switches.contains { $0["reason"] as? String == "rcs_failed: RCS_FAILED" && $0["rows"] as? Int == 3 }, "\(switches)")
        let delivery = status?["delivery"] as? [String: Any]
        // The four moved rows wait for their SMS receipts; the blocked one stays undelivered.
        #expect(delivery?["delivered"] as? Int == 7 && delivery?["undelivered"] as? Int == 1, "\(delivery ?? [:])")

        // Late and repeated RCS events for the moved rows change nothing; a resume sends nothing.
        let again = try setup.run(["receipts", "import", "events.json"])
        #expect(again.status == 0, "\(again.stderr)")
        let after = Optional(try setup.status())
        #expect((after?["delivery"] as? [String: Any])?["undelivered"] as? Int == 1, "\(after?["delivery"] ?? "")")
        #expect((after?["counts"] as? [String: Int])?["sent"] == 12, "\(after?["counts"] ?? "")")
        let resume = try setup.run(["resume", "rf"])
        #expect(resume.status == 0, "\(resume.stdout)\n\(resume.stderr)")
        #expect(log.sms.withLock { $0.count } == 4 && log.rcs.withLock { $0.values.reduce(0, +) } == 12)
        let doctor = try setup.run(["doctor", "rf"])
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        try await setup.shutdown()
    }

    /// The sender killed (SIGKILL) while rows that fell back go out as SMS: the next run sends
    /// each remaining one once; a row whose SMS may have left is in doubt (Twilio has no
    /// idempotency key), never sent twice by itself; the counters agree throughout.
    @Test(arguments: ["sqlite", "postgres"])
    func aSenderKilledWhileTheSMSGoOutSendsNoneTwice(store: String) async throws {
        guard let setup = try await Setup(store: store, count: 30, smsDelayMs: 150, leaseTimeout: 3) else { return }
        let sender = try HeraldProcess(["run", "rf.yaml"], in: setup.fixture.folder, environment: setup.environment)
        try await setup.waitForRCS()
        let failed = Array(stride(from: 2, through: 31, by: 2))
        #expect(try setup.importReceipts(failed: failed, expired: [], blocked: []).status == 0)
        // Killed once the first SMS reached Twilio (four in flight, each answered in 150 ms).
        var waited = 0
        while setup.log.sms.withLock({ $0.isEmpty }), waited < 200 {
            try await Task.sleep(for: .milliseconds(25))
            waited += 1
        }
        sender.signal(SIGKILL)
        #expect(sender.wait().status == 128 + SIGKILL)
        let before = setup.log.sms.withLock { $0.count }
        #expect(before > 0 && before < failed.count, "\(before) SMS before the kill")
        let resumed = try setup.run(["resume", "rf"])
        #expect(resumed.status == 0 || resumed.status == 6, "\(resumed.stdout)\n\(resumed.stderr)")
        let perNumber = Dictionary(grouping: setup.log.sms.withLock { $0 }.compactMap { $0["To"] }) { $0 }.mapValues(\.count)
        #expect(perNumber.values.allSatisfy { $0 == 1 }, "an SMS sent twice: \(perNumber)")
        let moved = Set(failed.map { setup.rows[$0 - 2].phone })
        #expect(Set(perNumber.keys).isSubset(of: moved))
        let counts = try setup.status()["counts"] as? [String: Int] ?? [:]
        // Every moved row was sent once, or is in doubt (its SMS may have left before the kill).
        #expect((counts["sent"] ?? 0) + (counts["in_doubt"] ?? 0) == 30, "\(counts)")
        #expect(perNumber.count >= (counts["sent"] ?? 0) - 15, "\(counts): \(perNumber.count) numbers got an SMS")
        #expect(setup.log.rcs.withLock { $0.values.allSatisfy { $0 == 1 } }, "no RCS message was sent twice")
        #expect(try setup.run(["doctor", "rf"]).status == 0)
        try await setup.shutdown()
    }

    /// Receipts that come after the run stopped waiting (here it does not wait at all) are acted
    /// on by the next `herald resume`: the completed campaign sends the SMS of the rows they
    /// prove failed, and completes again.
    @Test(arguments: ["sqlite", "postgres"])
    func receiptsAfterTheRunAreActedOnByTheNextResume(store: String) async throws {
        guard let setup = try await Setup(store: store, count: 6, wait: 0) else { return }
        let run = try setup.run(["run", "rf.yaml"])
        #expect(run.status == 0 && run.stdout.contains("6 sent"), "\(run.stdout)\n\(run.stderr)")
        #expect(setup.log.sms.withLock { $0.isEmpty })
        #expect(try setup.importReceipts(failed: [3, 6], expired: [], blocked: []).status == 0)
        let resumed = try setup.run(["resume", "rf"])
        #expect(resumed.status == 0 && resumed.stdout.contains("completed"), "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(Set(setup.log.sms.withLock { $0 }.compactMap { $0["To"] }) == [setup.rows[1].phone, setup.rows[4].phone])
        #expect(setup.log.sms.withLock { $0.count } == 2 && setup.log.rcs.withLock { $0.values.allSatisfy { $0 == 1 } })
        #expect(try setup.run(["doctor", "rf"]).status == 0)
        try await setup.shutdown()
    }
}
