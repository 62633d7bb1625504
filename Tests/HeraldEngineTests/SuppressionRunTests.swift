import Foundation
import HeraldProviders
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Testing
@testable import HeraldEngine

/// Opt-outs across campaigns and providers: an AWS-style server's opted-out answer
/// lists the number, and the next campaign in the journal never sends to it.
@Suite struct SuppressionRunTests {
    @Test func anOptedOutAnswerSuppressesTheNumberForTheNextCampaign() async throws {
        let server = try await LoopbackServer { request in
            request.json["DestinationPhoneNumber"] as? String == "+447700900002"
                ? .respond(status: 400, body: #"{"__type":"ConflictException","Reason":"DESTINATION_PHONE_NUMBER_OPTED_OUT","Message":"opted out"}"#)
                : .respond(status: 200, body: #"{"MessageId":"m"}"#)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(5) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\"}")
        let aws = AWSCampaignTests()
        let first = try await aws.runner(fixture, server: server).run()
        #expect(first.counts[.sent] == 4 && first.counts.byReason[.optedOut] == 1)

        // A second campaign to the same people, in the same journal.
        try String(contentsOfFile: fixture.campaignPath, encoding: .utf8).replacingOccurrences(of: "id: test-campaign", with: "id: second")
            .write(to: fixture.folder.appendingPathComponent("second.yaml"), atomically: true, encoding: .utf8)
        let plan = try CampaignPlan.load(campaignPath: fixture.folder.appendingPathComponent("second.yaml").path)
        #expect(try plan.validate(journalPath: fixture.journalPath).suppressed == 1)
        #expect(try plan.estimate(journalPath: fixture.journalPath).suppressed == 1)
        var runner = CampaignRunner(plan: plan, journalPath: fixture.journalPath, options: RunOptions(), stop: StopSignal())
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = server.url
        runner.provider = try AWSProvider(configuration: configuration, environment: ProviderTestValues.awsEnvironment,
                                          transport: AsyncHTTPClientTransport(maxConnections: 2))
        let second = try await runner.run()
        #expect(second.counts[.sent] == 4 && second.counts.byReason[.suppressed] == 1)
        #expect(AWSCampaignTests.accepted(server).filter { $0 == "+447700900002" }.count == 1, "asked once, never again")
        try await server.shutdown()
    }

    @Test func theOptOutListIsSyncedPageByPage() async throws {
        let server = try await LoopbackServer { request in
            guard request.header("X-Amz-Target") == "PinpointSMSVoiceV2.DescribeOptedOutNumbers",
                  request.json["OptOutListName"] as? String == "Default"
            else { return .respond(status: 400, body: #"{"__type":"ValidationException"}"#) }
            return request.json["NextToken"] == nil
                ? .respond(status: 200, body: #"{"OptedOutNumbers":[{"OptedOutNumber":"+447700900001","OptedOutTimestamp":1764000000,"EndUserOptedOut":true}],"NextToken":"p2"}"#)
                : .respond(status: 200, body: #"{"OptedOutNumbers":[{"OptedOutNumber":"+447700900003","OptedOutTimestamp":1764000001,"EndUserOptedOut":true}]}"#)
        }
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(5) + "\n",
                                  provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\", opt_out_list: Default}")
        let result = try await SuppressionList.sync(campaignPath: fixture.campaignPath, journalPath: fixture.journalPath,
                                                    environment: ProviderTestValues.awsEnvironment)
        #expect(result.listed == 2 && result.added == 2)
        let journal = try Journal(path: fixture.journalPath)
        #expect(try journal.suppressions(limit: 10).map(\.destination) == [447700900001, 447700900003])
        #expect(try journal.suppression(of: 447700900001).first?.addedAt == 1_764_000_000_000)
        try await server.shutdown()
    }
}

/// `retention_days`: the worker purges a finished campaign once that many days passed.
@Suite struct RetentionTests {
    @Test func theWorkerPurgesOnlyAfterRetentionDays() async throws {
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(10) + "\n", extra: "retention_days: 2")
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed)
        let worker = Worker(journalPath: fixture.journalPath, stop: StopSignal())
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try worker.purgeExpired(now: now + 47 * 3_600_000).isEmpty, "not yet: 47 hours")
        #expect(try worker.purgeExpired(now: now + 49 * 3_600_000) == ["test-campaign"])
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        #expect(record.purgedAt != nil)
        #expect(try journal.counts(cid: record.cid)[.sent] == 10)
        #expect(try worker.purgeExpired(now: now + 99 * 3_600_000).isEmpty, "purged once")
    }
}

/// `frequency_cap` through the engine: a second campaign to some of the same people.
@Suite struct FrequencyCapRunTests {
    @Test func theSecondCampaignSkipsWhoTheFirstReached() async throws {
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(10) + "\n")
        #expect(try await fixture.runner().run().counts[.sent] == 10)
        // The second campaign: five of the same people and five new ones, at most one message a week.
        try ("phone,name,code,points\n" + Fixture.validRows(10, from: 5) + "\n")
            .write(to: fixture.folder.appendingPathComponent("second.csv"), atomically: true, encoding: .utf8)
        try String(contentsOfFile: fixture.campaignPath, encoding: .utf8)
            .replacingOccurrences(of: "id: test-campaign", with: "id: second")
            .replacingOccurrences(of: "recipients: recipients.csv", with: "recipients: second.csv\nfrequency_cap: {messages: 1, days: 7}")
            .write(to: fixture.folder.appendingPathComponent("second.yaml"), atomically: true, encoding: .utf8)
        let plan = try CampaignPlan.load(campaignPath: fixture.folder.appendingPathComponent("second.yaml").path)
        #expect(try plan.estimate(journalPath: fixture.journalPath).frequencyCapped == 5)
        let summary = try await CampaignRunner(plan: plan, journalPath: fixture.journalPath, options: RunOptions(),
                                               stop: StopSignal()).run()
        #expect(summary.counts[.sent] == 5 && summary.counts.byReason[.frequencyCap] == 5)
        let keys = try fixture.outbox().map(\.key)
        #expect(keys.filter { $0.hasPrefix("second/") }.count == 5)
    }
}
