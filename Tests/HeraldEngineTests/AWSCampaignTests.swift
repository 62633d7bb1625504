import Crypto
import Foundation
import HeraldTestSupport
#if canImport(Glibc)
import Glibc
#endif
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// Whole campaigns through the AWS adapter against a loopback server.
@Suite struct AWSCampaignTests {
    func runner(_ fixture: Fixture, server: LoopbackServer, stop: StopSignal = StopSignal()) throws -> CampaignRunner {
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = server.url
        var runner = try fixture.runner(stop: stop)
        runner.provider = try AWSProvider(configuration: configuration, environment: ProviderTestValues.awsEnvironment,
                                          transport: AsyncHTTPClientTransport(maxConnections: 8))
        return runner
    }

    static func accepted(_ server: LoopbackServer, where accept: (LoopbackServer.Request) -> Bool = { _ in true }) -> [String] {
        server.requests.filter(accept).compactMap { $0.json["DestinationPhoneNumber"] as? String }
    }

    @Test func aThrottlingServerGetsEveryMessageExactlyOnce() async throws {
        // Every third request is throttled (with Retry-After: 0.05), the rest accepted.
        let counter = Counter()
        let accepted = AcceptedLog()
        let server = try await LoopbackServer { request in
            if counter.next() % 3 == 0 {
                return .respond(status: 400, headers: [("Retry-After", "0.05")], body: #"{"__type":"ThrottlingException"}"#)
            }
            accepted.append(request.json["DestinationPhoneNumber"] as? String ?? "")
            return .respond(status: 200, body: #"{"MessageId":"m"}"#)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(120) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\"}",
                                  extra: "rate: {messages_per_second: 400, burst: 10, max_in_flight: 8}")
        let summary = try await runner(fixture, server: server).run()
        #expect(summary.state == .completed && summary.counts[.sent] == 120)
        // Each number accepted exactly once (the server logs what it answers 200 to).
        #expect(accepted.items.count == 120 && Set(accepted.items).count == 120)
        let total = server.requests.count
        #expect(total - total / 3 == 120, "every third request was throttled and sent again")
        try await server.shutdown()
    }

    @Test func aLostAnswerLeavesTheRowInDoubtAndIsNotResentByItself() async throws {
        let server = try await LoopbackServer { request in
            request.json["DestinationPhoneNumber"] as? String == "+447700900003"
                ? .close : .respond(status: 200, body: #"{"MessageId":"m"}"#)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(10) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\"}")
        let summary = try await runner(fixture, server: server).run()
        #expect(summary.counts[.sent] == 9 && summary.counts[.inDoubt] == 1)
        #expect(ExitStatus(for: summary) == .inDoubt)
        let again = try await runner(fixture, server: server).run()
        #expect(again.sentThisRun == 0, "AWS has no idempotency key: in-doubt rows wait for --resend-in-doubt")
        #expect(Self.accepted(server).filter { $0 == "+447700900003" }.count == 1)
        try await server.shutdown()
    }

    @Test func aPriceOverMaxPriceSkipsTheRowAsMaxPrice() async throws {
        let server = try await LoopbackServer { request in
            request.json["DestinationPhoneNumber"] as? String == "+447700900002"
                ? .respond(status: 400, body: #"{"__type":"ValidationException","Reason":"PRICE_OVER_THRESHOLD","Message":"over MaxPrice"}"#)
                : .respond(status: 200, body: #"{"MessageId":"m"}"#)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(4) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\"}")
        let summary = try await runner(fixture, server: server).run()
        #expect(summary.counts[.sent] == 3 && summary.counts[.skipped] == 1 && summary.counts[.failed] == 0)
        let journal = try Journal(path: fixture.journalPath)
        let skipped = try journal.rows(cid: journal.campaign(id: "test-campaign")!.cid, in: .skipped, limit: 5)
        #expect(skipped.first?.reason == .maxPrice && skipped.first?.detail == "ValidationException: PRICE_OVER_THRESHOLD: over MaxPrice")
        try await server.shutdown()
    }

    @Test func refusedCredentialsStopTheCampaignInsteadOfFailingEveryRow() async throws {
        let server = try await LoopbackServer { _ in .respond(status: 400, body: #"{"__type":"UnrecognizedClientException"}"#) }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(50) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\"}",
                                  extra: "rate: {max_in_flight: 2}")
        let summary = try await runner(fixture, server: server).run()
        guard case .providerRefused = summary.stop else {
            Issue.record("expected the campaign to stop, got \(String(describing: summary.stop))")
            return
        }
        #expect(ExitStatus(for: summary) == .providerRefused)
        #expect(summary.counts[.failed] == 0 && summary.counts[.pending] == 50)
        #expect(server.requests.count <= 2)
        try await server.shutdown()
    }

    @Test func campaignFileKeysForAWS() throws {
        let fixture = try Fixture(
            rows: "phone,name,code,points\n" + Fixture.validRows(1) + "\n",
            provider: "{kind: aws, region: eu-west-1, origination_identity: \"+447700900000\", message_type: PROMOTIONAL, ttl_seconds: 600, context: {team: growth}}")
        let spec = try CampaignPlan.load(campaignPath: fixture.campaignPath).spec
        guard let aws = spec.provider.settings(as: AWSConfiguration.self) else {
            Issue.record("expected aws")
            return
        }
        #expect(aws.region == "eu-west-1" && aws.originationIdentity == "+447700900000" && aws.ttlSeconds == 600)
        #expect(aws.context == ["team": "growth"] && aws.messageType == "PROMOTIONAL")
        let bad = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(1) + "\n",
                              provider: "{kind: aws, message_type: LOUD}")
        #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: bad.campaignPath) }
    }
}

final class AcceptedLog: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ item: String) { list.withLock { $0.append(item) } }
    var items: [String] { list.withLock { $0 } }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

import Synchronization
