import Foundation
import HeraldCore
import HeraldJournal
import HeraldSQLite
import HeraldSettings
@testable import HeraldEngine
import Testing

/// Campaigns with several providers (`providers:` and `routing:`): the file's checks, rows no
/// provider takes, and each strategy's choice as estimate, validate, the journal and the
/// simulators' outboxes see it.
@Suite struct RoutingTests {
    /// GB rows 0..<gb, US rows after them, then one French number.
    static func rows(gb: Int, us: Int, france: Bool = false) -> String {
        var lines = ["phone,name,code,points"]
        lines += (0..<gb).map { "+44 7700 \(900000 + $0),Name\($0),C\(String(format: "%03d", $0)),1" }
        lines += (0..<us).map { "+1 202 555 \(String(format: "%04d", 100 + $0)),Name\($0),D\(String(format: "%03d", $0)),1" }
        if france { lines.append("+33 6 12 34 56 78,Marie,F001,1") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A fixture whose campaign file lists `providers` (YAML lines) with `routing`.
    static func fixture(rows: String, routing: String? = "least_cost", providers: String, extra: String = "") throws -> Fixture {
        let fixture = try Fixture(rows: rows)
        try "country,channel,price\nGB,sms,0.0300\nUS,sms,0.0090\n"
            .write(to: fixture.folder.appendingPathComponent("a.csv"), atomically: true, encoding: .utf8)
        try "country,channel,price\nGB,sms,0.0250\nUS,sms,0.0100\n"
            .write(to: fixture.folder.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        try """
        id: routed
        template: template.yaml
        recipients: recipients.csv
        \(routing.map { "routing: \($0)" } ?? "")
        providers:
        \(providers)
        \(extra)
        """.write(to: URL(fileURLWithPath: fixture.campaignPath), atomically: true, encoding: .utf8)
        return fixture
    }

    static let two = """
          - {name: a, kind: simulator, outbox: a.jsonl, prices: a.csv}
          - {name: b, kind: simulator, outbox: b.jsonl, prices: b.csv}
        """

    static let rcsAgent = """
          - {name: a, kind: aws, region: us-east-1, origination_identity: "arn:aws:sms-voice:us-east-1:123456789012:rcs-agent/rcs-a1b2c3d4", sms_fallback: b}
        """

    @Test(arguments: [
        ("least_cost", two.replacingOccurrences(of: "name: b", with: "name: a"), "campaign.yaml:7: providers[1].name: \"a\" names two providers (line 6)"),
        ("cheapest", two, "campaign.yaml:4: routing: \"cheapest\" is not a routing strategy (ordered, least_cost, weighted)"),
        ("weighted", two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, weight: 0}"),
         "campaign.yaml:7: providers[1].weight: \"0\" must be a whole number from 1 to 1000000"),
        ("weighted", two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, weight: -3}"),
         "campaign.yaml:7: providers[1].weight: \"-3\" must be a whole number from 1 to 1000000"),
        ("ordered", two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, countries: [GBR]}"),
         "campaign.yaml:7: providers[1].countries: \"GBR\" is not an ISO 3166 alpha-2 code"),
        ("ordered", two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, channels: [mms]}"),
         "campaign.yaml:7: providers: \"b\" fits no row: it takes mms, the template is sms"),
        ("ordered", two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, chanels: [sms]}"),
         "campaign.yaml:7: unknown key \"chanels\" in providers[1]"),
        ("ordered", "  - {name: a, kind: simulator}\n  - {name: \"b c\", kind: simulator}",
         "campaign.yaml:7: providers[1].name: \"b c\" must be 1-64 letters"),
        ("ordered", two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, sms_fallback: c}"),
         "campaign.yaml:6: providers[0].sms_fallback: \"c\" names no entry of providers: (\"a\", \"b\")"),
        ("ordered", two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, sms_fallback: a}"),
         "campaign.yaml:6: providers[0].sms_fallback: \"a\" is this entry"),
        ("ordered", two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, sms_fallback: b}"),
         "campaign.yaml:6: providers[0].sms_fallback: needs RCS that the provider never falls back from itself"),
        ("ordered", two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, sms_fallback_wait: 30}"),
         "campaign.yaml:6: providers[0].sms_fallback_wait: needs sms_fallback: in the same entry"),
        ("ordered", rcsAgent + "\n  - {name: b, kind: simulator, channels: [mms]}",
         "campaign.yaml:6: providers[0].sms_fallback: \"b\" does not take sms (channels: mms)"),
        ("ordered", rcsAgent + "\n  - {name: b, kind: simulator}",
         "campaign.yaml:7: providers: \"b\" (an sms_fallback): the template is sms; sms_fallback is for RCS"),
    ])
    func mistakesInTheListNameTheFileAndLine(routing: String, providers: String, expected: String) throws {
        let fixture = try Self.fixture(rows: Self.rows(gb: 2, us: 2), routing: routing, providers: providers)
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.hasSuffix(expected) == true || error?.description.contains(expected) == true,
                "\(String(describing: error))")
    }

    @Test func failoverThresholdsAreReadAndCheckedAgainstTheWindow() throws {
        var fixture = try Self.fixture(rows: Self.rows(gb: 1, us: 0), providers: Self.two,
                                       extra: "failover: {cool_down_seconds: 5, max_cool_down_seconds: 60, window: 10, failures: 3, throttles: 4}")
        let spec = try CampaignPlan.load(campaignPath: fixture.campaignPath).spec
        #expect(spec.failover == FailoverPolicy(coolDown: 5_000, maxCoolDown: 60_000, window: 10, failures: 3, throttles: 4))
        fixture = try Self.fixture(rows: Self.rows(gb: 1, us: 0), providers: Self.two, extra: "failover: {window: 4}")
        // Counts the file leaves out are held within the window it sets.
        #expect(try CampaignPlan.load(campaignPath: fixture.campaignPath).spec.failover
                    == FailoverPolicy(coolDown: 30_000, maxCoolDown: 300_000, window: 4, failures: 4, throttles: 4))
        for (extra, expected) in [
            ("failover: {window: 10, failures: 11}", "campaign.yaml:8: failover.failures: 11 is more than the window's 10 answers"),
            ("failover: {cool_down_seconds: 60, max_cool_down_seconds: 30}", "failover.max_cool_down_seconds: must not be shorter than cool_down_seconds (60)"),
            ("failover: {cool_down_seconds: 0}", "failover.cool_down_seconds"),
            ("failover: {cooldown: 5}", "unknown key \"cooldown\" in failover"),
        ] {
            fixture = try Self.fixture(rows: Self.rows(gb: 1, us: 0), providers: Self.two, extra: extra)
            let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
            #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
        }
        fixture = try Fixture(rows: Self.rows(gb: 1, us: 0), extra: "failover: {window: 5}\n")
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains("failover needs a providers: list of two or more") == true, "\(String(describing: error))")
    }

    @Test func oneProviderAndAListAtOnceOrRoutingWithoutAListAreRefused() throws {
        var fixture = try Fixture(rows: Self.rows(gb: 1, us: 0), extra: "providers:\n  - {kind: simulator}\n")
        var error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains("give either provider: (one) or providers: (a list), not both") == true, "\(String(describing: error))")
        fixture = try Fixture(rows: Self.rows(gb: 1, us: 0), extra: "routing: weighted\n")
        error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains("routing needs a providers: list of two or more") == true, "\(String(describing: error))")
        fixture = try Self.fixture(rows: Self.rows(gb: 1, us: 0), providers: "  - {name: a, kind: simulator, prices: a.csv}\n  - {name: b, kind: simulator}",
                                   extra: "budget: {campaign_limit: 1}")
        error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains("a budget needs a price book for every provider") == true, "\(String(describing: error))")
    }

    @Test func aProviderThatFitsNoRowIsRefusedBeforeAnythingIsSent() async throws {
        let providers = Self.two.replacingOccurrences(of: "prices: b.csv}", with: "prices: b.csv, countries: [FR, DE]}")
        let fixture = try Self.fixture(rows: Self.rows(gb: 2, us: 2), providers: providers)
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        for check in [{ _ = try plan.validate() }, { _ = try plan.estimate(journalPath: nil) }] {
            let error = #expect(throws: InputError.self) { try check() }
            #expect(error?.description.contains("campaign.yaml:7: providers: \"b\" fits no row of") == true
                && error?.description.contains("(countries: DE, FR)") == true, "\(String(describing: error))")
        }
        let error = await #expect(throws: InputError.self) { _ = try await fixture.runner().run() }
        #expect(error?.description.contains("\"b\" fits no row") == true, "\(String(describing: error))")
        for outbox in ["a.jsonl", "b.jsonl"] {
            #expect(FileManager.default.contents(atPath: fixture.folder.appendingPathComponent(outbox).path)?.isEmpty ?? true, "nothing sent")
        }
        let journal = try Journal(path: fixture.journalPath, create: false)
        #expect(try journal.campaign(id: "routed", mode: .real)?.state != .ready, "the import was given up")
    }

    @Test func aRowNoProviderTakesIsSkippedAsNoRouteAndCountedEverywhere() async throws {
        let providers = """
              - {name: uk, kind: simulator, outbox: a.jsonl, prices: a.csv, countries: [GB]}
              - {name: us, kind: simulator, outbox: b.jsonl, prices: b.csv, countries: [US]}
            """
        let fixture = try Self.fixture(rows: Self.rows(gb: 3, us: 2, france: true), routing: "ordered", providers: providers)
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let report = try plan.validate()
        #expect(report.problemsByReason == [.noRoute: 1] && report.problems.first?.line == 7)
        #expect(report.problems.first?.problem.description.contains("no provider of the campaign takes sms to FR") == true)
        #expect(report.byProvider.map(\.rows) == [3, 2])
        let estimate = try plan.estimate(journalPath: nil)
        #expect(estimate.invalid == ["no_route": 1] && estimate.messages == 5)
        #expect(estimate.byProvider.map(\.messages) == [3, 2])
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 5 && summary.counts.byReason[.noRoute] == 1)
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        #expect(status.providers?.map(\.sent) == [3, 2] && status.providers?.map(\.name) == ["uk", "us"])
    }

    /// GB is cheaper through b, the US through a; spend is the sum of each provider's own prices,
    /// and each simulator's outbox holds exactly the numbers routed to it.
    @Test func leastCostSendsEachRowThroughTheCheaperProvider() async throws {
        let fixture = try Self.fixture(rows: Self.rows(gb: 4, us: 3), providers: Self.two, extra: "budget: {campaign_limit: 5}")
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let estimate = try plan.estimate(journalPath: nil)
        #expect(estimate.routing == "least_cost")
        #expect(estimate.byProvider.map(\.name) == ["a", "b"] && estimate.byProvider.map(\.messages) == [3, 4])
        #expect(estimate.byProvider.map(\.cost) == [Money("0.027")!, Money("0.1")!])
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 7)
        #expect(summary.spent == Money("0.127")!)
        func destinations(_ file: String) throws -> Set<String> {
            guard let data = FileManager.default.contents(atPath: fixture.folder.appendingPathComponent(file).path) else { return [] }
            return Set(try data.split(separator: UInt8(ascii: "\n")).map {
                (try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])?["destination"] as? String ?? "?"
            })
        }
        #expect(try destinations("a.jsonl").allSatisfy { $0.hasPrefix("+1") } && destinations("a.jsonl").count == 3)
        #expect(try destinations("b.jsonl").allSatisfy { $0.hasPrefix("+44") } && destinations("b.jsonl").count == 4)
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        #expect(status.providers?.map(\.cost) == estimate.byProvider.map(\.cost))
    }

    /// Weighted routing is drawn from each row's line: the estimate, validate and the journal agree.
    @Test func weightedSplitsByWeightTheSameWayEverywhere() async throws {
        let providers = Self.two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, weight: 3}")
        let fixture = try Self.fixture(rows: Self.rows(gb: 400, us: 0), routing: "weighted", providers: providers)
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        let estimate = try plan.estimate(journalPath: nil)
        let shares = estimate.byProvider.map(\.messages)
        #expect(shares.reduce(0, +) == 400 && abs(shares[0] - 300) < 40, "\(shares)")
        #expect(try plan.validate().byProvider.map(\.rows) == shares)
        _ = try await fixture.runner().run()
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        #expect(status.providers?.map(\.sent) == shares)
    }

    /// A row keeps the provider it was routed to: when the campaign file no longer lists that
    /// provider, the run stops with the row unsent (exit 9) instead of sending it through another.
    @Test func aRowWhoseProviderWasRemovedIsNeverSentThroughAnother() async throws {
        let providers = """
              - {name: uk, kind: simulator, outbox: a.jsonl, prices: a.csv, countries: [GB]}
              - {name: us, kind: simulator, outbox: b.jsonl, prices: b.csv, countries: [US]}
            """
        let fixture = try Self.fixture(rows: Self.rows(gb: 2, us: 2), routing: "ordered", providers: providers)
        var options = RunOptions()
        options.limit = 1
        _ = try await fixture.runner(options).run()
        let text = try String(contentsOfFile: fixture.campaignPath, encoding: .utf8)
        try text.replacingOccurrences(of: "  - {name: us, kind: simulator, outbox: b.jsonl, prices: b.csv, countries: [US]}\n", with: "")
            .replacingOccurrences(of: "routing: ordered\n", with: "")
            .write(toFile: fixture.campaignPath, atomically: true, encoding: .utf8)
        let summary = try await fixture.runner().run()
        guard case .providerRefused(let detail) = summary.stop else {
            Issue.record("expected the run to stop, got \(String(describing: summary.stop))")
            return
        }
        #expect(detail.contains("routed to provider #2 of providers:, which the campaign file no longer lists"), "\(detail)")
        let sentThroughUK = FileManager.default.contents(atPath: fixture.folder.appendingPathComponent("a.jsonl").path)
            .map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(!sentThroughUK.contains("+1202"), "no US row went through the UK provider")
        #expect(summary.counts[.sent] == 2 && summary.counts[.pending] == 2, "\(summary.counts)")
    }

    /// The numbers a simulator's outbox delivered to (each delivery once: the outbox remembers keys).
    static func delivered(_ fixture: Fixture, _ file: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: fixture.folder.appendingPathComponent(file).path) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map {
            (try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])?["destination"] as? String ?? "?"
        }
    }

    /// Failover: a provider no request reaches is demoted, and its rows go through the other,
    /// priced by the other's book. Every switch is recorded and shown; the counters agree.
    @Test func aProviderNoRequestReachesHandsItsRowsToTheOther() async throws {
        let providers = Self.two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, unreachable_rate: 1}")
        let fixture = try Self.fixture(rows: Self.rows(gb: 4, us: 3), providers: providers, extra: "budget: {campaign_limit: 5}")
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 7 && summary.stop == nil, "\(summary.counts)")
        #expect(try Self.delivered(fixture, "a.jsonl").isEmpty)
        #expect(try Set(Self.delivered(fixture, "b.jsonl")).count == 7)
        // The US rows, cheaper through a ($0.009), went through b at b's price ($0.010).
        #expect(summary.spent == Money("0.13")!)
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        let switches = try #require(status.switches)
        #expect(switches.reduce(0) { $0 + $1.rows } == 3 && switches.allSatisfy { $0.from == "a" && $0.to == "b" }, "\(switches)")
        #expect(switches.contains { $0.reason == "unreached" })
        #expect(status.providers?.map(\.sent) == [0, 7] && status.providers?.map(\.cost) == [.zero, Money("0.13")!])
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "routed", mode: .real))
        #expect(try journal.checkCounters(cid: record.cid).isEmpty)
    }

    /// A provider one run demoted stays demoted for the next sender of the campaign until its
    /// cool-down ends (the journal shares it): the second run sends nothing through it, though it
    /// works again, and `status` says why.
    @Test func aDemotionIsSharedWithTheNextSender() async throws {
        let providers = Self.two.replacingOccurrences(of: "prices: a.csv}", with: "prices: a.csv, unreachable_rate: 1}")
        // US rows only: each cheaper through a.
        let fixture = try Self.fixture(rows: Self.rows(gb: 0, us: 8), providers: providers, extra: "failover: {cool_down_seconds: 120}")
        var options = RunOptions()
        options.limit = 2
        // The two rows it claims find a refusing a's connection: moved to b, left for the next run.
        let first = try await fixture.runner(options).run()
        #expect(first.counts[.sent] == 0 && first.counts[.retry] == 2, "\(first.counts)")
        #expect(try Self.delivered(fixture, "a.jsonl").isEmpty)
        let demoted = try #require(try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0].demoted)
        #expect(demoted.map(\.provider) == ["a"] && demoted[0].reason == "a request never reached it", "\(demoted)")
        // Provider a works again; the next run still leaves it alone: its rows go through b,
        // moved unsent.
        try String(contentsOfFile: fixture.campaignPath, encoding: .utf8).replacingOccurrences(of: ", unreachable_rate: 1", with: "")
            .write(toFile: fixture.campaignPath, atomically: true, encoding: .utf8)
        let second = try await fixture.runner().run()
        #expect(second.counts[.sent] == 8, "\(second.counts)")
        #expect(try Self.delivered(fixture, "a.jsonl").isEmpty)
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        #expect(status.switches?.contains { $0.from == "a" && $0.to == "b" && $0.reason == "demoted" } == true, "\(status.switches ?? [])")
    }

    /// Receipts much slower through one provider than the other (as Notify measures it): the slow
    /// one is demoted, and its rows not yet sent go through the other, unsent until then.
    @Test func aProviderWhoseDeliveriesAreSlowIsDemoted() async throws {
        let providers = """
              - {name: a, kind: simulator, outbox: a.jsonl, prices: a.csv, weight: 1, receipts: {delivered: 1, undelivered: 0, latency_ms: "1-20"}}
              - {name: b, kind: simulator, outbox: b.jsonl, prices: b.csv, weight: 1, receipts: {delivered: 1, undelivered: 0, latency_ms: "500-6000"}}
            """
        let fixture = try Self.fixture(rows: Self.rows(gb: 0, us: 300), routing: "weighted", providers: providers, extra: """
            rate: {messages_per_second: 60, max_in_flight: 8}
            failover: {slow_after_seconds: 1, slow_minimum: 5, cool_down_seconds: 600}
            """)
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 300, "\(summary.counts)")
        let first = try Self.delivered(fixture, "a.jsonl"), second = try Self.delivered(fixture, "b.jsonl")
        #expect(Set(first).isDisjoint(with: second) && first.count + second.count == 300)
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        let switches = try #require(status.switches)
        // About half the rows are b's by weight; once b is judged slow (after a second and a
        // half or so), the rest of them go through a.
        #expect(switches.allSatisfy { $0.from == "b" && $0.to == "a" && $0.reason == "demoted" }, "\(switches)")
        #expect(switches.reduce(0) { $0 + $1.rows } >= 50, "\(switches)")
        #expect(second.count <= 100, "\(second.count) went through b")
    }

    /// Failover never guesses: a row whose answer was lost (the provider may have delivered it)
    /// stays with its provider even when a later attempt never reaches it, so no number is
    /// delivered by both. Rows that never reached the first go through the second.
    @Test func aRowThatMayHaveBeenDeliveredNeverMoves() async throws {
        let providers = Self.two.replacingOccurrences(
            of: "prices: a.csv}", with: "prices: a.csv, lost_answer_rate: 0.5, unreachable_rate: 0.3, seed: 7}")
        let fixture = try Self.fixture(rows: Self.rows(gb: 0, us: 200), providers: providers,
                                       extra: "budget: {campaign_limit: 50}\nretry: {max_attempts: 8, initial_backoff_ms: 1, max_backoff_ms: 5}")
        let summary = try await fixture.runner().run()
        let first = try Self.delivered(fixture, "a.jsonl"), second = try Self.delivered(fixture, "b.jsonl")
        #expect(Set(first).count == first.count && Set(second).count == second.count)
        #expect(Set(first).isDisjoint(with: second), "a number delivered by both providers")
        #expect(!first.isEmpty && !second.isEmpty, "\(first.count) through a, \(second.count) through b")
        #expect(summary.counts[.sent] + summary.counts[.inDoubt] + summary.counts[.failed] == 200, "\(summary.counts)")
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "routed")[0]
        #expect(status.switches?.reduce(0) { $0 + $1.rows } == second.count)
    }
}
