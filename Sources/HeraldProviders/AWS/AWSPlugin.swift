import Foundation
import HeraldCore
import HeraldSettings
import Logging

/// AWS End User Messaging SMS/Voice v2: every channel; receipts are event records through an
/// SNS HTTPS subscription. Limits and shapes from the service model (pinpoint-sms-voice-v2).
extension ProviderKind {
    public static let aws = ProviderKind(
        name: "aws", content: .aws, capabilities: ProviderCapabilities(honoursIdempotencyKeys: false), receipts: .sns,
        senderField: SenderField(key: "origination_identity", allowed: "A-Za-z0-9_:/+-", max: 256),
        parse: { map, _ throws(InputError) in try AWSConfiguration(settings: map) })
}

extension ContentTarget {
    /// `SendRcsMessage`'s shapes: the only RCS text limit stated, S3 media, wider cards.
    public static let aws: ContentTarget = {
        var rcs = RCSRules()
        rcs.textMax = 3072
        rcs.carouselWidths = ["SMALL", "MEDIUM"]
        rcs.providerTemplates = false
        rcs.mediaSchemes = ["https://", "s3://"]
        rcs.cardTitleMax = 200
        rcs.cardDescriptionMax = 2000
        rcs.tallMediaInCarousel = false
        rcs.openURLSchemes = ["https://"]
        return ContentTarget(name: "aws", channels: Channel.allCases, rcs: rcs)
    }()
}

extension ReceiptRoute {
    /// AWS events through an SNS HTTPS subscription.
    public static let sns = ReceiptRoute(name: "sns", metricLabel: AWSEventRecords.metricLabel,
                                         handler: { setup in try SNSReceiptHandler(setup) })
}

extension AWSConfiguration: ProviderSettings {
    public static var kind: ProviderKind { .aws }

    public var sender: String { originationIdentity ?? "" }

    /// A direct send (an RCS agent ARN as the sender): AWS never falls back to SMS from it, and
    /// says in a final event when the RCS message was not delivered.
    public func fallingBackElsewhere() -> any ProviderSettings {
        var settings = self
        settings.fallsBackItself = false
        return settings
    }

    public var rcsFailureProof: RCSFailureProof? {
        guard let identity = originationIdentity, identity.hasPrefix("arn:"), identity.contains(":rcs-agent/") else { return nil }
        return AWSEventRecords.rcsFailure
    }

    public init(settings map: YAMLMap) throws(InputError) {
        try map.onlyKeys(["kind", "region", "endpoint", "origination_identity", "configuration_set", "message_type",
                          "ttl_seconds", "keyword", "protect_configuration_id", "message_feedback_enabled", "context",
                          "notify_configuration_id", "voice_id", "fallback_origination_identity", "opt_out_list"])
        self.init()
        region = try map.setting("region", allowed: "a-z0-9-", max: 32,
                                 shape: { $0.split(separator: "-").count >= 3 && $0.last?.isNumber == true }, example: "eu-west-1")
        endpoint = try map.httpURL("endpoint")
        // Shapes from the service model (pinpoint-sms-voice-v2), checked before anything is sent.
        originationIdentity = try map.setting("origination_identity", allowed: Self.kind.senderField?.allowed, max: 256)
        configurationSet = try map.setting("configuration_set", allowed: "A-Za-z0-9_:/-", max: 256)
        if let type = try map.string("message_type") {
            guard type == "TRANSACTIONAL" || type == "PROMOTIONAL" else {
                throw map.error("message_type", "must be TRANSACTIONAL or PROMOTIONAL")
            }
            messageType = type
        }
        ttlSeconds = try map.int("ttl_seconds", in: 5...259_200)
        keyword = try map.setting("keyword", allowed: nil, max: 30)
        protectConfigurationID = try map.setting("protect_configuration_id", allowed: "A-Za-z0-9_:/-", max: 256)
        messageFeedbackEnabled = try map.bool("message_feedback_enabled")
        notifyConfigurationID = try map.setting("notify_configuration_id", allowed: "A-Za-z0-9_:/-", max: 256)
        voiceID = try map.setting("voice_id", allowed: "A-Za-z", max: 32)?.uppercased()
        fallbackOriginationIdentity = try map.setting("fallback_origination_identity", allowed: "A-Za-z0-9_:/+-", max: 256)
        optOutList = try map.setting("opt_out_list", allowed: "A-Za-z0-9_:/-", max: 256)
        if let context = try map.map("context") {
            guard context.keys.count <= 3 else {
                throw map.error("context", "at most 3 entries: AWS takes 5 and herald sets \"campaign\" and \"herald_row\"")
            }
            for key in context.keys {
                guard key != "campaign", key != "herald_row" else {
                    throw context.error(key, "\"\(key)\" is set by herald (campaign id and CSV row, to match receipts)")
                }
                self.context[key] = try context.requiredString(key)
            }
        }
    }

    public func problem(sending channel: Channel, fallback: Bool) -> String? {
        if [.mms, .voice, .rcs].contains(channel), originationIdentity == nil {
            return "origination_identity is required to send \(channel.rawValue) through AWS"
        }
        if [.notifyText, .notifyVoice].contains(channel), notifyConfigurationID == nil {
            return "notify_configuration_id is required to send \(channel.rawValue) through AWS"
        }
        if channel == .rcs, (ttlSeconds ?? 0) > 172_800 {
            return "ttl_seconds is at most 172800 (48 hours) for RCS"
        }
        if channel == .voice || channel == .notifyVoice, let voice = voiceID, !AWSVoices.all.contains(voice) {
            return "voice_id \"\(voice)\" is not an Amazon Polly voice AWS takes (e.g. JOANNA, MATTHEW, AMY)"
        }
        return nil
    }

    public func makeProvider(_ context: ProviderContext) throws -> any MessageProvider {
        var configuration = self
        configuration.maxPrice = context.maxPrice
        return try AWSProvider(configuration: configuration, transport: context.transport)
    }
}

/// SNS messages: signature checked against a certificate from AWS, subscriptions confirmed
/// for the allowed topics, each message taken once (a replay is answered, not recorded).
struct SNSReceiptHandler: ReceiptHandler {
    let verifier: SNSVerifier
    let logger: Logger

    init(_ setup: ReceiptHandlerSetup) throws {
        // Tests only: fetch SNS certificates and confirmations from a loopback server.
        let via = setup.environment["HERALD_SNS_FETCH_VIA"].flatMap { value -> String? in
            guard let host = URLComponents(string: value)?.host, host == "127.0.0.1" || host == "localhost" else { return nil }
            return value
        }
        verifier = try SNSVerifier(allowedTopics: setup.snsTopics, trustedCAFiles: setup.snsTrustedCAs,
                                   transport: setup.transport, fetchVia: via)
        logger = setup.logger
    }

    func read(_ request: ReceiptRequest) async throws -> ReceiptReading {
        let message = try SNSMessage(body: request.body)
        if let type = request.headers["x-amz-sns-message-type"], type != message.kind.rawValue {
            throw ReceiptParseError("x-amz-sns-message-type \(type) does not match Type \(message.kind.rawValue)")
        }
        do {
            try await verifier.verify(message)
        } catch {
            throw ReceiptRefusal("SNS: \(error.description)")
        }
        switch message.kind {
        case .notification:
            guard let tree = JSONTree.parse(Array(message.message.utf8)) else {
                throw ReceiptParseError("the SNS Message is not a JSON event record")
            }
            var event = try AWSEventRecords.event(tree, raw: message.message)
            if verifier.wasTaken(message) { return .answered("already taken") }
            // The journal remembers the id too: a replay to another receiver, or after a
            // restart, is taken once.
            event.envelope = message.messageID
            let verifier = verifier
            return .events([event], recorded: { verifier.taken(message) })
        case .subscriptionConfirmation:
            do {
                try await verifier.confirm(message)
            } catch {
                throw ReceiptRefusal("SNS: \(error.description)")
            }
            logger.notice("SNS subscription confirmed", metadata: ["topic": "\(message.topicARN.printable)"])
            return .answered("")
        case .unsubscribeConfirmation:
            logger.notice("SNS subscription ended", metadata: ["topic": "\(message.topicARN.printable)"])
            return .answered("")
        }
    }
}

extension ReceiptSource {
    public static let aws = ReceiptSource(ProviderKind.aws.name)
}
