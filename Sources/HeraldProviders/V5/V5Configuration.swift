/// Campaign settings for the `/v5/messages` RCS API (`provider.kind: v5`).
/// Credentials come from the environment only (`V5_USERNAME`, `V5_PASSWORD`).
public struct V5Configuration: Sendable, Equatable {
    /// The API's base URL; `/v5/messages` is appended.
    public var endpoint = ""
    /// The RCS sender (`source`), e.g. an agent name.
    public var source = ""
    /// Sender of the SMS failover (`smsFailover.failoverSource`), for `fallback_sms`.
    public var fallbackSender: String?
    /// Where the API posts delivery statuses (`callbackURL`).
    public var callbackURL: String?

    public init() {}
}
