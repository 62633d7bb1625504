import Foundation
import HeraldCore
import HeraldProviders
import HeraldTestSupport
import Synchronization
import Testing

/// Two real providers' APIs over loopback (Twilio and AWS End User Messaging) in one campaign
/// with `routing: least_cost`, sent by the real binary: each row goes to the cheaper API for its
/// country, spend is the sum of each provider's own prices, and status, the report's CSV, the
/// dashboard's JSON and `/metrics` break it all down by provider.
@Suite(.serialized) struct RoutingCLITests {
    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let environment = ["TWILIO_AUTH_TOKEN": "test-auth-token-not-a-secret", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                              "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"]

    /// Numbers an API was asked to send to, in order.
    final class Destinations: Sendable {
        private let list = Mutex<[String]>([])
        /// Adds one; returns how many so far.
        func add(_ number: String?) -> Int { list.withLock { $0.append(number ?? "?"); return $0.count } }
        var all: [String] { list.withLock { $0 } }
    }

    /// Twilio's `Messages.json` answer for the `count`th message.
    static func twilioQueued(_ count: Int) -> LoopbackServer.Reply {
        .respond(status: 201, body: #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#)
    }

    /// The `To` of a Twilio send.
    static func twilioTo(_ request: LoopbackServer.Request) -> String? {
        (FormEncoding.decode(request.body) ?? []).first { $0.0 == "To" }?.1
    }

    /// AWS End User Messaging's SendTextMessage over loopback: accepts every message, recording its destination.
    static func awsAPI(recording sent: Destinations) async throws -> LoopbackServer {
        try await LoopbackServer { request in
            let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
            return .respond(status: 200, body: #"{"MessageId":"aws-\#(sent.add(object?["DestinationPhoneNumber"] as? String))"}"#)
        }
    }

    @Test func leastCostSendsEachCountryThroughTheCheaperProviderAndCountsBoth() async throws {
        let fixture = try CLIFixture()
        let twilioTo = Destinations()
        let awsTo = Destinations()
        let twilio = try await LoopbackServer { request in Self.twilioQueued(twilioTo.add(Self.twilioTo(request))) }
        let aws = try await Self.awsAPI(recording: awsTo)
        // 6 US numbers, 4 UK ones. Twilio is cheaper for the UK, AWS for the US.
        let us = (0..<6).map { "+1202555\(String(format: "%04d", 100 + $0))" }
        let uk = (0..<4).map { "+4477009\(String(format: "%05d", $0))" }
        try fixture.write("recipients.csv", "phone,name,code\n"
            + (us + uk).enumerated().map { "\($1),Person \($0),C\(String(format: "%03d", $0))" }.joined(separator: "\n") + "\n")
        try fixture.write("twilio.csv", "country,channel,price\nUS,sms,0.0079\nGB,sms,0.0400\n")
        try fixture.write("aws.csv", "country,channel,price\nUS,sms,0.0050\nGB,sms,0.0450\n")
        try fixture.write("template.yaml", CLIFixture.template)
        try fixture.write("routed.yaml", """
            id: routed
            template: template.yaml
            recipients: recipients.csv
            routing: least_cost
            providers:
              - {name: tw, kind: twilio, endpoint: "\(twilio.url)", account_sid: \(Self.account), from: "+15550100", prices: twilio.csv}
              - {name: aws, kind: aws, region: us-east-1, endpoint: "\(aws.url)", origination_identity: "+12025550199", prices: aws.csv}
            budget: {campaign_limit: 1.00}
            """)
        let estimate = try HeraldProcess.run(["estimate", "routed.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("cost by provider (routing: least_cost)"), "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "routed.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                        environment: Self.environment)
        try await twilio.shutdown()
        try await aws.shutdown()
        #expect(run.status == 0 && run.stdout.contains("10 sent"), "\(run.stdout)\n\(run.stderr)")
        #expect(twilioTo.all.sorted() == uk.sorted(), "exactly the UK rows go to Twilio, once each")
        #expect(awsTo.all.sorted() == us.sorted(), "exactly the US rows go to AWS, once each")
        // 6 × $0.0050 + 4 × $0.0400 = $0.19.
        #expect(run.stdout.contains("spend so far: $0.19\n"), "\(run.stdout)")
        let status = try HeraldProcess.run(["status", "routed", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let providers = object?["providers"] as? [[String: Any]] ?? []
        #expect(providers.map { $0["name"] as? String } == ["tw", "aws"], "\(status.stdout)")
        #expect(providers.map { $0["sent"] as? Int } == [4, 6] && providers.map { $0["cost"] as? String } == ["0.16", "0.03"])
        let text = try HeraldProcess.run(["status", "routed", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(text.stdout.contains("provider tw (twilio): sent 4") && text.stdout.contains("provider aws (aws): sent 6"), "\(text.stdout)")
        let report = try HeraldProcess.run(["report", "routed", "--journal", "journal.sqlite", "--csv", "rows.csv", "--html", "report.html"],
                                           in: fixture.folder)
        #expect(report.status == 0, "\(report.stderr)")
        let csv = try String(contentsOfFile: fixture.path("rows.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first?.hasSuffix(",provider") == true && csv.dropFirst().filter { $0.hasSuffix(",tw") }.count == 4
            && csv.dropFirst().filter { $0.hasSuffix(",aws") }.count == 6, "\(csv)")
        let html = try String(contentsOfFile: fixture.path("report.html"), encoding: .utf8)
        #expect(html.contains("<table id=\"providers\">") && html.contains("<td>tw</td><td>twilio</td>"))
        // The dashboard and /metrics, from `herald serve`.
        let server = try ReceiptServerProcess(fixture, dashboard: true)
        defer { _ = server.stop() }
        let api = try #require(RawHTTP.request(port: server.port, method: "GET", path: "/api/campaigns")?.body)
        let rows = (try JSONSerialization.jsonObject(with: Data(api.utf8)) as? [String: Any])?["campaigns"] as? [[String: Any]]
        #expect((rows?.first?["providers"] as? [[String: Any]])?.map { $0["sent"] as? Int } == [4, 6], "\(api)")
        let metrics = try #require(RawHTTP.request(port: server.port, method: "GET", path: "/metrics")?.body)
        #expect(metrics.contains(#"herald_provider_messages{campaign="routed",provider="tw",state="sent"} 4"#), "\(metrics)")
        #expect(metrics.contains(#"herald_provider_cost_usd{campaign="routed",provider="aws"} 0.03"#), "\(metrics)")
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let lint = try DashboardTests.run(promtool, ["check", "metrics"], input: metrics)
            #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics: \(lint.output)")
        } else {
            Issue.record("promtool is needed (.ci/run installs Debian's prometheus)")
        }
    }

    /// Failover with real processes and real sockets: Twilio's API is killed mid-campaign, after
    /// it accepted five messages (it stops listening and drops its connections, requests in
    /// flight included). Requests that may have reached it leave their rows in doubt, with
    /// Twilio; rows whose requests never reached it go through AWS, at AWS's price. No number
    /// that reached Twilio in any way is sent through AWS, every number is accounted for once,
    /// and `status` shows the switch.
    @Test func aProviderKilledMidCampaignHandsOnlyTheRowsItNeverSawToTheOther() async throws {
        let fixture = try CLIFixture()
        let twilioSaw = Destinations()
        let awsTo = Destinations()
        let dying = Atomic<Bool>(false)
        let twilio = try await LoopbackServer { request in
            let count = twilioSaw.add(Self.twilioTo(request))
            guard count <= 5 else {
                dying.store(true, ordering: .relaxed)
                return .close
            }
            return Self.twilioQueued(count)
        }
        let aws = try await Self.awsAPI(recording: awsTo)
        // 20 UK numbers, all cheaper through Twilio.
        let uk = (0..<20).map { "+4477009\(String(format: "%05d", $0))" }
        try fixture.write("recipients.csv", "phone,name,code\n"
            + uk.enumerated().map { "\($1),Person \($0),C\(String(format: "%03d", $0))" }.joined(separator: "\n") + "\n")
        try fixture.write("twilio.csv", "country,channel,price\nGB,sms,0.0400\n")
        try fixture.write("aws.csv", "country,channel,price\nGB,sms,0.0450\n")
        try fixture.write("template.yaml", CLIFixture.template)
        try fixture.write("routed.yaml", """
            id: routed
            template: template.yaml
            recipients: recipients.csv
            routing: least_cost
            providers:
              - {name: tw, kind: twilio, endpoint: "\(twilio.url)", account_sid: \(Self.account), from: "+15550100", prices: twilio.csv}
              - {name: aws, kind: aws, region: us-east-1, endpoint: "\(aws.url)", origination_identity: "+12025550199", prices: aws.csv}
            rate: {messages_per_second: 20, max_in_flight: 2}
            budget: {campaign_limit: 2.00}
            """)
        // Spawned, then watched without holding a thread of the test pool.
        let sender = try HeraldProcess(["run", "routed.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                       environment: Self.environment)
        while !dying.load(ordering: .relaxed), sender.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        await twilio.kill()
        while sender.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let run = sender.wait()
        try await aws.shutdown()
        let saw = twilioSaw.all, sentByAWS = awsTo.all
        let status = try HeraldProcess.run(["status", "routed", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let doubted = Set((object?["in_doubt"] as? [[String: Any]] ?? []).compactMap { $0["row"] as? Int }.map { uk[$0 - 2] })
        #expect(!doubted.isEmpty && !sentByAWS.isEmpty, "\(saw.count) requests reached Twilio, \(sentByAWS.count) went to AWS")
        #expect(Set(saw).isDisjoint(with: sentByAWS), "a number that reached Twilio was sent through AWS too")
        #expect(doubted.isDisjoint(with: sentByAWS), "a row in doubt was sent through AWS")
        #expect(Set(sentByAWS).count == sentByAWS.count && 5 + doubted.count + sentByAWS.count == uk.count, "every number once")
        #expect(run.status == 6, "rows in doubt: exit 6\n\(run.stdout)\n\(run.stderr)")
        #expect(run.stderr.contains("provider \"tw\" demoted"), "\(run.stderr)")
        let providers = object?["providers"] as? [[String: Any]] ?? []
        #expect(providers.map { $0["sent"] as? Int } == [5, sentByAWS.count]
            && providers.map { $0["in_doubt"] as? Int } == [doubted.count, 0], "\(status.stdout)")
        // Each at its provider's price: 5 × $0.04 + the rest × $0.045, the rows in doubt reserved.
        let spend = object?["spend"] as? [String: Any]
        #expect(spend?["spent"] as? String == "\(Money(nanos: 5 * 40_000_000 + Int64(sentByAWS.count) * 45_000_000))", "\(status.stdout)")
        let switches = object?["switches"] as? [[String: Any]] ?? []
        #expect(switches.reduce(0) { $0 + ($1["rows"] as? Int ?? 0) } == sentByAWS.count, "\(status.stdout)")
        #expect(switches.allSatisfy { $0["from"] as? String == "tw" && $0["to"] as? String == "aws" })
        let text = try HeraldProcess.run(["status", "routed", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(text.stdout.contains("failover: ") && text.stdout.contains("moved from tw to aws"), "\(text.stdout)")
    }
}
