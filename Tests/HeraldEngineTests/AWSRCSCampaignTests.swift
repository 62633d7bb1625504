import Foundation
import HeraldTestSupport
import HeraldCore
import HeraldSettings
@testable import HeraldProviders
import Testing
@testable import HeraldEngine

/// Whole non-SMS campaigns through the AWS adapter against a loopback server.
@Suite struct AWSRCSCampaignTests {
    @Test func anRCSCampaignGoesOutAsSendRcsMessage() async throws {
        let server = try await LoopbackServer { _ in .respond(status: 200, body: #"{"MessageId":"m"}"#) }
        let fixture = try Fixture(
            rows: "phone,name,code,points\n" + Fixture.validRows(20) + "\n",
            provider: "{kind: aws, region: eu-west-1, endpoint: \"\(server.url)\", origination_identity: rcs-agent, fallback_origination_identity: \"+447700900000\", ttl_seconds: 600}",
            extra: "rate: {max_in_flight: 4}", template: RCSCampaign.template)
        let plan = try CampaignPlan.load(campaignPath: fixture.campaignPath)
        guard var configuration = plan.spec.provider.settings(as: AWSConfiguration.self) else { throw InputError(file: "", "expected aws") }
        configuration.maxPrice = "0.01"
        var runner = try fixture.runner()
        runner.provider = try AWSProvider(configuration: configuration, environment: ProviderTestValues.awsEnvironment,
                                          transport: AsyncHTTPClientTransport(maxConnections: 4))
        let summary = try await runner.run()
        #expect(summary.state == .completed && summary.counts[.sent] == 20)
        #expect(server.requests.count == 20)
        #expect(server.requests.allSatisfy { $0.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendRcsMessage" })
        #expect(server.requests.allSatisfy(ProviderTestValues.awsSignatureMatches))
        let json = try #require(server.requests.first { $0.json["DestinationPhoneNumber"] as? String == "+447700900007" }?.json)
        let content = try #require(json["RcsMessageContent"] as? [String: Any])
        #expect((content["Content"] as? [String: Any])?["TextMessage"] as? [String: String] == ["Body": "Hi Name7, your code is C007"])
        #expect((content["Suggestions"] as? [[String: Any]])?.last?["OpenUrl"] as? [String: String]
            == ["Text": "Open", "PostbackData": "Open", "Url": "https://example.com/c/C007"])
        #expect((json["FallbackConfiguration"] as? [String: String])?["MessageBody"] == "Hi Name7, code C007")
        #expect(json["TimeToLive"] as? Int == 600 && json["MaxPrice"] as? String == "0.01")
        try await server.shutdown()
    }

    @Test func settingsAChannelNeedsAreAskedForBeforeSending() throws {
        let rows = "phone,name,code,points\n" + Fixture.validRows(1) + "\n"
        let rcs = try Fixture(rows: rows, provider: "{kind: aws, region: eu-west-1}", template: RCSCampaign.template)
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: rcs.campaignPath) }
        #expect(error?.description.contains("origination_identity is required to send rcs through AWS") == true)
        let notify = try Fixture(rows: rows, provider: "{kind: aws, region: eu-west-1}", template: """
            id: n
            channel: notify-text
            variables:
              code: {type: string, required: true}
              name: {type: string}
            notify_template_id: notify-code-001
            """)
        let missing = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: notify.campaignPath) }
        #expect(missing?.description.contains("notify_configuration_id is required") == true)
        let voice = try Fixture(rows: rows, provider: "{kind: aws, region: eu-west-1, origination_identity: \"+12025550100\", voice_id: robot}",
                                template: "id: v\nchannel: voice\nvariables: {name: {type: string}}\nbody: \"Hello <name>\"\n")
        let badVoice = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: voice.campaignPath) }
        #expect(badVoice?.description.contains("voice_id \"ROBOT\" is not an Amazon Polly voice") == true)
    }
}
