/// Campaign settings for AWS End User Messaging SMS and Voice v2 (`provider.kind: aws`).
public struct AWSConfiguration: Sendable, Equatable {
    public var region: String?
    public var endpoint: String?
    public var originationIdentity: String?
    public var configurationSet: String?
    /// TRANSACTIONAL or PROMOTIONAL.
    public var messageType: String?
    /// 5-259200 seconds.
    public var ttlSeconds: Int?
    public var keyword: String?
    public var protectConfigurationID: String?
    public var messageFeedbackEnabled: Bool?
    /// Extra `Context` entries; the campaign id always goes in as `campaign` (5 at most in all).
    public var context: [String: String] = [:]
    /// MaxPrice from the budget, as AWS takes it (`[0-9]{0,2}.[0-9]{1,5}`).
    public var maxPrice: String?
    /// Notify channels: the Notify configuration (`NotifyConfigurationId`).
    public var notifyConfigurationID: String?
    /// Voice channels: the Amazon Polly voice (`VoiceId`), e.g. JOANNA.
    public var voiceID: String?
    /// RCS: the SMS sender of the template's `fallback_sms` (`FallbackConfiguration.OriginationIdentity`).
    public var fallbackOriginationIdentity: String?
    /// The account's opt-out list that `herald suppress sync` reads (`OptOutListName`).
    public var optOutList: String?
    /// Whether an RCS message carries the template's fallback for AWS to send itself
    /// (`FallbackConfiguration`); off when the campaign sends it through another provider
    /// (`sms_fallback:`), so no recipient gets two.
    public var fallsBackItself = true

    public init() {}
}
