import Foundation
import HeraldProviders
import HeraldTestSupport
import Synchronization
import Testing

/// RCS to SMS through another provider, with the real binary: an RCS campaign sent directly
/// through an AWS RCS agent ARN (which AWS never falls back from) to a loopback AWS, with
/// `sms_fallback:` naming a loopback Twilio. AWS event records (`herald receipts import`, as a
/// Firehose object arrives) say some RCS messages failed or expired while the sender waits for
/// them: exactly those rows go once as SMS (their `fallback_sms`) through Twilio, priced by its
/// parts; the others never; late and repeated RCS events change nothing; the counters agree.
@Suite(.serialized) struct RCSFallbackCLITests {
    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let agent = "arn:aws:sms-voice:us-east-1:123456789012:rcs-agent/rcs-a1b2c3d4"

    @Test(arguments: ["sqlite", "postgres"])
    func rowsWhoseRCSFailedGoOnceAsSMSThroughTheOtherProvider(store: String) async throws {
        var journal = "journal.sqlite"
        if store == "postgres" {
            guard let url = try PostgresClusterTests.database(leaseTimeout: 30) else { return }
            journal = url
        }
        let fixture = try CLIFixture()
        let rcs = Mutex<[Int: Int]>([:])  // CSV line -> RCS requests
        let aws = try await LoopbackServer { request in
            let row = Int((request.json["Context"] as? [String: String])?["herald_row"] ?? "") ?? -1
            rcs.withLock { $0[row, default: 0] += 1 }
            // Herald sends the SMS itself: AWS is not asked to fall back too.
            if request.json["FallbackConfiguration"] != nil || request.json["RcsMessageContent"] == nil { rcs.withLock { $0[-1] = 1 } }
            return .respond(status: 200, body: #"{"MessageId":"rcs-\#(row)"}"#)
        }
        let sms = Mutex<[[String: String]]>([])
        let twilio = try await LoopbackServer { request in
            var fields: [String: String] = [:]
            for (name, value) in FormEncoding.decode(request.body) ?? [] { fields[name] = value }
            let count = sms.withLock { sent -> Int in
                sent.append(fields)
                return sent.count
            }
            return .respond(status: 201, body: #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#)
        }
        let rows = CLIFixture.rows(12)
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
              - {name: rcs, kind: aws, region: us-east-1, endpoint: "\(aws.url)", origination_identity: "\(Self.agent)", sms_fallback: text, sms_fallback_wait: 60}
              - {name: text, kind: twilio, endpoint: "\(twilio.url)", account_sid: \(Self.account), from: "+15550100"}
            rate: {max_in_flight: 4}
            """)
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
                           "TWILIO_AUTH_TOKEN": "test-auth-token-not-a-secret", "HERALD_JOURNAL": journal]
        // A file that names a provider that cannot prove an RCS failure is refused before anything is sent.
        try fixture.write("bad.yaml", try String(contentsOfFile: fixture.path("rf.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "id: rf", with: "id: bad").replacingOccurrences(of: Self.agent, with: "pool-1"))
        let refused = try HeraldProcess.run(["validate", "bad.yaml"], in: fixture.folder, environment: environment)
        #expect(refused.status == 3 && refused.stderr.contains("bad.yaml:8: providers[0].sms_fallback: needs RCS that the provider never falls back from"),
                "\(refused.stderr)")

        // A rehearsal has no receipts to wait for: it ends when its rows are sent.
        let started = Date()
        let rehearsal = try HeraldProcess.run(["run", "rf.yaml", "--simulate"], in: fixture.folder, environment: environment)
        #expect(rehearsal.status == 0 && rehearsal.stdout.contains("12 sent") && Date().timeIntervalSince(started) < 30,
                "\(rehearsal.stdout)\n\(rehearsal.stderr)")
        #expect(rcs.withLock { $0.isEmpty } && sms.withLock { $0.isEmpty })

        let sender = try HeraldProcess(["run", "rf.yaml"], in: fixture.folder, environment: environment)
        // Every RCS message is out before the receipts come.
        var waited = 0
        while rcs.withLock({ $0.count }) < 12, waited < 300 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        #expect(rcs.withLock { $0.count } == 12, "12 RCS messages, none with a FallbackConfiguration")
        // Lines 2-4 failed, line 5 expired, line 6 was blocked as fraud (never sent again), the
        // rest delivered; each record comes twice (SNS and Firehose both deliver at least once).
        func record(_ row: Int, _ type: String, status: String) -> String {
            #"{"eventType":"\#(type)","eventTimestamp":1764496800000,"isFinal":true,"messageId":"rcs-\#(row)","messageStatus":"\#(status)","context":{"campaign":"rf","herald_row":"\#(row)"}}"#
        }
        let failed = [2, 3, 4], expired = [5], blocked = [6]
        var records = failed.map { record($0, "RCS_FAILED", status: "FAILED") } + expired.map { record($0, "RCS_TTL_EXPIRED", status: "TTL_EXPIRED") }
        records += blocked.map { record($0, "RCS_PROTECT_BLOCKED", status: "BLOCKED") }
        records += (7...13).map { record($0, "RCS_DELIVERED", status: "DELIVERED") }
        try fixture.write("events.json", (records + records).joined(separator: "\n") + "\n")
        let imported = try HeraldProcess.run(["receipts", "import", "events.json"], in: fixture.folder, environment: environment)
        #expect(imported.status == 0, "\(imported.stdout)\n\(imported.stderr)")
        let run = sender.wait()
        #expect(run.status == 0 && run.stdout.contains("12 sent"), "\(run.stdout)\n\(run.stderr)")

        let texts = sms.withLock { $0 }
        let moved = (failed + expired).map { rows[$0 - 2] }
        #expect(texts.count == 4 && Set(texts.compactMap { $0["To"] }) == Set(moved.map(\.phone)), "\(texts)")
        #expect(texts.allSatisfy { $0["From"] == "+15550100" && $0["Body"]?.hasSuffix("reply STOP to opt out") == true }, "\(texts)")
        #expect(rcs.withLock { $0.values.allSatisfy { $0 == 1 } }, "no RCS message was sent twice")

        // The SMS is UCS-2 (the dash): one part of 70. 12 RCS at $0.01 and 4 SMS at $0.0079.
        let status = try JSONSerialization.jsonObject(with: Data(
            try HeraldProcess.run(["status", "rf", "--json"], in: fixture.folder, environment: environment).stdout.utf8)) as? [String: Any]
        let spend = status?["spend"] as? [String: Any]
        #expect(spend?["spent"] as? String == "0.1516", "\(spend ?? [:])")
        // The RCS attempts of the moved rows stay with the RCS provider's cost.
        let providers = status?["providers"] as? [[String: Any]] ?? []
        #expect(providers.map { $0["cost"] as? String } == ["0.12", "0.0316"], "\(providers)")
        #expect(providers.first?["fell_back_cost"] as? String == "0.04" && providers.last?["fell_back_cost"] == nil, "\(providers)")
        let text = try HeraldProcess.run(["status", "rf"], in: fixture.folder, environment: environment).stdout
        #expect(text.contains("cost $0.12 ($0.04 of it for RCS that fell back to SMS)"), "\(text)")
        let switches = status?["switches"] as? [[String: Any]] ?? []
        #expect(switches.count == 2 && switches.allSatisfy { $0["from"] as? String == "rcs" && $0["to"] as? String == "text" }, "\(switches)")
        #expect(switches.contains { $0["reason"] as? String == "rcs_failed: RCS_FAILED" && $0["rows"] as? Int == 3 }, "\(switches)")
        let delivery = status?["delivery"] as? [String: Any]
        // The four moved rows wait for their SMS receipts; the blocked one stays undelivered.
        #expect(delivery?["delivered"] as? Int == 7 && delivery?["undelivered"] as? Int == 1, "\(delivery ?? [:])")

        // Late and repeated RCS events for the moved rows change nothing; a resume sends nothing.
        let again = try HeraldProcess.run(["receipts", "import", "events.json"], in: fixture.folder, environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        let after = try JSONSerialization.jsonObject(with: Data(
            try HeraldProcess.run(["status", "rf", "--json"], in: fixture.folder, environment: environment).stdout.utf8)) as? [String: Any]
        #expect((after?["delivery"] as? [String: Any])?["undelivered"] as? Int == 1, "\(after?["delivery"] ?? "")")
        #expect((after?["counts"] as? [String: Int])?["sent"] == 12, "\(after?["counts"] ?? "")")
        let resume = try HeraldProcess.run(["resume", "rf"], in: fixture.folder, environment: environment)
        #expect(resume.status == 0, "\(resume.stdout)\n\(resume.stderr)")
        #expect(sms.withLock { $0.count } == 4 && rcs.withLock { $0.values.reduce(0, +) } == 12)
        let doctor = try HeraldProcess.run(["doctor", "rf"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)\n\(doctor.stderr)")
        try await aws.shutdown()
        try await twilio.shutdown()
    }
}
