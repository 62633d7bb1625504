import Foundation
import HeraldCore
import HeraldProviders
import HeraldTestSupport
import Synchronization
import Testing

/// Sender pools through the real binary against Twilio's API over loopback: each identity of
/// a pool keeps its own rate (one process on SQLite, two sharing a PostgreSQL journal), a
/// recipient gets the same `From` in every campaign (remembered, though the pool grows), and a
/// pool's daily cap holds.
@Suite(.serialized) struct SenderPoolCLITests {
    /// Every Twilio request: its `From`, its `To` and when it arrived.
    final class Arrivals: Sendable {
        struct Arrival: Sendable {
            let from: String
            let to: String
            let at: Double
        }
        private let list = Mutex<[Arrival]>([])
        func add(_ request: LoopbackServer.Request) -> Int {
            let fields = FormEncoding.decode(request.body) ?? []
            let arrival = Arrival(from: fields.first { $0.0 == "From" }?.1 ?? "?", to: fields.first { $0.0 == "To" }?.1 ?? "?",
                                  at: Date().timeIntervalSince1970)
            return list.withLock { $0.append(arrival); return $0.count }
        }
        var all: [Arrival] { list.withLock { $0 } }
    }

    static func twilio(_ arrivals: Arrivals) async throws -> LoopbackServer {
        try await LoopbackServer { request in RoutingCLITests.twilioQueued(arrivals.add(request)) }
    }

    /// `count` fictional US numbers (555-01xx in several area codes).
    static func numbers(_ count: Int) -> [String] {
        (0..<count).map { "+1\([202, 212, 312, 415, 503, 617][$0 / 100])55501\(String(format: "%02d", $0 % 100))" }
    }

    static func writeCampaign(_ fixture: CLIFixture, id: String, url: String, senders: String, recipients: Int) throws {
        try fixture.write("recipients.csv", "phone,name,code\n"
            + numbers(recipients).enumerated().map { "\($1),Person \($0),C\(String(format: "%03d", $0))" }.joined(separator: "\n") + "\n")
        try fixture.write("template.yaml", CLIFixture.template)
        try fixture.write("\(id).yaml", """
            id: \(id)
            template: template.yaml
            recipients: recipients.csv
            provider:
              kind: twilio
              endpoint: "\(url)"
              account_sid: \(RoutingCLITests.account)
              senders:
            \(senders)
            rate: {max_in_flight: 16}
            """)
    }

    static let threeIdentities = """
            - {id: "+15550100", messages_per_second: 10, burst: 2}
            - {id: "+15550101", messages_per_second: 10, burst: 2}
            - {id: "+15550102", messages_per_second: 5, burst: 2}
        """

    enum Journal: String, CaseIterable, Sendable { case sqlite, postgres }

    @Test(arguments: Journal.allCases)
    func aPoolOfThreeIdentitiesKeepsEachWithinItsRate(_ journal: Journal) async throws {
        let url: String
        switch journal {
        case .sqlite: url = "journal.sqlite"
        case .postgres:
            guard let database = try PostgresClusterTests.database() else { return }
            url = database
        }
        let arrivals = Arrivals()
        let twilio = try await Self.twilio(arrivals)
        let fixture = try CLIFixture()
        try Self.writeCampaign(fixture, id: "pooled", url: twilio.url, senders: Self.threeIdentities, recipients: 150)
        // On PostgreSQL, two processes send it: every identity's bucket is shared between them.
        let processes = journal == .sqlite ? 1 : 2
        let senders = try (0..<processes).map { _ in
            try HeraldProcess(["run", "pooled.yaml", "--journal", url], in: fixture.folder, environment: RoutingCLITests.environment)
        }
        while senders.contains(where: \.isRunning) { try await Task.sleep(for: .milliseconds(50)) }
        for outcome in senders.map({ $0.wait() }) { #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)") }
        try await twilio.shutdown()
        let all = arrivals.all
        #expect(all.map(\.to).sorted() == Self.numbers(150).sorted(), "every recipient exactly once")
        let rates = ["+15550100": 10.0, "+15550101": 10.0, "+15550102": 5.0]
        for (from, rate) in rates {
            let times = all.filter { $0.from == from }.map(\.at).sorted()
            let worst = PacingTests.busiestSecond(times)
            print("\(journal) \(from) at \(rate)/s: \(times.count) sends, busiest second \(worst)")
            #expect(times.count >= 20, "\(from) took \(times.count) of 150")
            #expect(Double(worst) <= rate + 2, "\(from): a one-second window held \(worst) sends (rate \(rate) + burst 2)")
        }
        #expect(Set(all.map(\.from)) == Set(rates.keys))
        // The status shows which identity each row went from.
        let status = try HeraldProcess.run(["status", "pooled", "--json", "--journal", url], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let pool = object?["senders"] as? [[String: Any]] ?? []
        let counted = Dictionary(uniqueKeysWithValues: pool.compactMap { entry in (entry["id"] as? String).map { ($0, entry["sent"] as? Int ?? -1) } })
        for from in rates.keys { #expect(counted[from] == all.filter { $0.from == from }.count, "\(status.stdout)") }
    }

    @Test func aRecipientGetsTheSameSenderInEveryCampaign() async throws {
        let arrivals = Arrivals()
        let twilio = try await Self.twilio(arrivals)
        let fixture = try CLIFixture()
        // The second campaign lists the same identities in another order, one more that is full
        // for the day, and a new one so fast that its hashing would take most recipients: a
        // recipient keeps the sender the journal remembers while it is available.
        try Self.writeCampaign(fixture, id: "first", url: twilio.url, senders: """
                - {id: "+15550100"}
                - {id: "+15550101"}
                - {id: "+15550102"}
            """, recipients: 60)
        let first = try HeraldProcess.run(["run", "first.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                          environment: RoutingCLITests.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let firstFrom = Dictionary(uniqueKeysWithValues: arrivals.all.map { ($0.to, $0.from) })
        #expect(firstFrom.count == 60 && Set(firstFrom.values).count == 3)
        try Self.writeCampaign(fixture, id: "second", url: twilio.url, senders: """
                - {id: "+15550102"}
                - {id: "+15550109", messages_per_second: 1000}
                - {id: "+15550100", daily_cap: 5}
                - {id: "+15550101"}
            """, recipients: 60)
        // The preview shows the remembered sender; without the journal, the hashing's choice.
        let lines = (2...61).map(String.init).joined(separator: ",")
        for (journal, remembered) in [(["--journal", "journal.sqlite"], true), (["--journal", "none.sqlite"], false)] {
            let preview = try HeraldProcess.run(["preview", "second.yaml", "--rows", lines, "--json"] + journal, in: fixture.folder)
            #expect(preview.status == 0, "\(preview.stderr)")
            let rows = (try JSONSerialization.jsonObject(with: Data(preview.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]] ?? []
            #expect(rows.count == 60)
            let kept = rows.filter { row in (row["phone"] as? String).map { firstFrom[$0] } == row["sender"] as? String }.count
            if remembered { #expect(kept == 60) } else { #expect(kept < 30, "\(kept) of 60 by hashing alone") }
        }
        // The estimate counts each identity's rows as the run then sends them.
        let estimate = try HeraldProcess.run(["estimate", "second.yaml", "--journal", "journal.sqlite", "--json"], in: fixture.folder)
        #expect(estimate.status == 0, "\(estimate.stderr)")
        let bySender = (try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any])?["by_sender"]
            as? [[String: Any]] ?? []
        let estimated = Dictionary(uniqueKeysWithValues: bySender.compactMap { line in
            (line["id"] as? String).map { ($0, line["messages"] as? Int ?? -1) }
        })
        let second = try HeraldProcess.run(["run", "second.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                           environment: RoutingCLITests.environment)
        try await twilio.shutdown()
        #expect(second.status == 0, "\(second.stderr)")
        let secondFrom = Dictionary(uniqueKeysWithValues: arrivals.all.dropFirst(60).map { ($0.to, $0.from) })
        #expect(secondFrom.count == 60)
        for id in ["+15550100", "+15550101", "+15550102", "+15550109"] {
            #expect(estimated[id] == secondFrom.values.filter { $0 == id }.count, "\(id): \(estimate.stdout)")
        }
        let kept = secondFrom.filter { firstFrom[$0.key] == $0.value }
        // Recipients of +15550100 beyond its cap of 5 moved; every other recipient kept its sender.
        #expect(secondFrom.values.filter { $0 == "+15550100" }.count == 5)
        #expect(kept.count == 60 - (firstFrom.values.filter { $0 == "+15550100" }.count - 5), "\(kept.count) kept")
        for (to, from) in secondFrom where from != firstFrom[to] { #expect(firstFrom[to] == "+15550100", "\(to)") }
    }

    /// `journal copy` moves what the journal remembers with the campaign: the next campaign on
    /// PostgreSQL, its pool grown by an identity the hashing prefers, keeps every recipient's sender.
    @Test func theRememberedSendersMoveToPostgresWithTheCampaign() async throws {
        guard let url = try PostgresClusterTests.database() else { return }
        let arrivals = Arrivals()
        let twilio = try await Self.twilio(arrivals)
        let fixture = try CLIFixture()
        let three = """
                - {id: "+15550100"}
                - {id: "+15550101"}
                - {id: "+15550102"}
            """
        try Self.writeCampaign(fixture, id: "first", url: twilio.url, senders: three, recipients: 40)
        let first = try HeraldProcess.run(["run", "first.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                          environment: RoutingCLITests.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let firstFrom = Dictionary(uniqueKeysWithValues: arrivals.all.map { ($0.to, $0.from) })
        let copy = try HeraldProcess.run(["journal", "copy", "--from", "journal.sqlite", "--to", url], in: fixture.folder)
        #expect(copy.status == 0, "\(copy.stdout)\n\(copy.stderr)")
        try Self.writeCampaign(fixture, id: "second", url: twilio.url, senders: three + "\n    - {id: \"+15550109\", messages_per_second: 1000}",
                               recipients: 40)
        let second = try HeraldProcess.run(["run", "second.yaml", "--journal", url], in: fixture.folder,
                                           environment: RoutingCLITests.environment)
        try await twilio.shutdown()
        #expect(second.status == 0, "\(second.stderr)")
        let secondFrom = Dictionary(uniqueKeysWithValues: arrivals.all.dropFirst(40).map { ($0.to, $0.from) })
        #expect(secondFrom.count == 40 && secondFrom == firstFrom)
    }

    @Test func aFullPoolWaitsForTheNextDayAndSaysSo() async throws {
        let arrivals = Arrivals()
        let twilio = try await Self.twilio(arrivals)
        let fixture = try CLIFixture()
        try Self.writeCampaign(fixture, id: "capped", url: twilio.url, senders: """
                - {id: "+15550100", daily_cap: 3}
                - {id: "+15550101", daily_cap: 4}
            """, recipients: 10)
        // Seven of ten go today; the run then waits for the next UTC day, and is stopped (Ctrl-C).
        let sender = try HeraldProcess(["run", "capped.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                       environment: RoutingCLITests.environment)
        let deadline = Date().addingTimeInterval(60)
        while arrivals.all.count < 7, sender.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .seconds(1))
        #expect(sender.isRunning, "the run waits for the day to turn")
        sender.signal(SIGINT)
        while sender.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let run = sender.wait()
        try await twilio.shutdown()
        #expect(arrivals.all.count == 7, "\(run.stdout)\n\(run.stderr)")
        #expect(run.status == 0 || run.status == 130, "\(run.status) \(run.stderr)")
        let status = try HeraldProcess.run(["status", "capped", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(status.stdout.contains("sender_cap"), "\(status.stdout)")
    }

    @Test(arguments: [
        ("provider: {kind: agile, agent_id: 1, senders: [{id: \"a\"}]}", "agile takes no sender pool"),
        ("provider: {kind: twilio, account_sid: \(RoutingCLITests.account), from: \"+15550100\", senders: [{id: \"+15550101\"}]}",
         "give either from (one sender) or senders: (a pool), not both"),
        ("provider: {kind: simulator, senders: [{id: \"a\"}, {id: \"a\"}]}", "\"a\" is listed twice"),
        ("provider: {kind: simulator, geomatch: true, senders: [{id: \"a\"}]}", "geomatch needs a country: on at least one sender"),
        ("provider: {kind: simulator, senders: [{id: \"a\", burst: 2}]}", "burst needs messages_per_second"),
        ("provider: {kind: simulator, senders: [{id: \"a\", daily_cap: 0}]}", "daily_cap"),
        ("provider: {kind: simulator, senders: [{id: \"a\", country: USA}]}", "\"USA\" is not an ISO 3166 alpha-2 code"),
        ("provider: {kind: simulator, senders: []}", "expected a list of senders"),
    ])
    func badPoolsAreRefusedAtLoad(_ provider: String, _ message: String) throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n+12025550100,Ada,C001\n")
        try fixture.write("template.yaml", CLIFixture.template)
        try fixture.write("bad.yaml", "id: bad\ntemplate: template.yaml\nrecipients: recipients.csv\n\(provider)\n")
        let result = try HeraldProcess.run(["validate", "bad.yaml"], in: fixture.folder)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("bad.yaml:4") && result.stderr.contains(message), "\(result.stderr)")
    }
}
