import Foundation

/// Campaign settings for Twilio Programmable Messaging (`provider.kind: twilio`).
/// Credentials come from the environment only: an API key (`TWILIO_API_KEY_SID` and
/// `TWILIO_API_KEY_SECRET`), else the account's (`TWILIO_ACCOUNT_SID` and
/// `TWILIO_AUTH_TOKEN`). Status callbacks are signed with the auth token, so a receiver
/// needs `TWILIO_AUTH_TOKEN` either way.
public struct TwilioConfiguration: Sendable, Equatable {
    public static let defaultEndpoint = "https://api.twilio.com"

    public var endpoint = TwilioConfiguration.defaultEndpoint
    /// The account the messages are sent from (`AC` and 32 hex digits); else `TWILIO_ACCOUNT_SID`.
    public var accountSID: String?
    /// The sender: a Twilio number in E.164, a short code or an alphanumeric sender id (`From`).
    public var from: String?
    /// A Messaging Service that picks the sender (`MessagingServiceSid`, `MG` and 32 hex digits).
    public var messagingServiceSID: String?
    /// Where Twilio posts status callbacks (`StatusCallback`); else the journal's receipt URL
    /// once `herald receipts url --base` set a base.
    public var statusCallback: String?
    /// Seconds Twilio may queue a message before giving up (`ValidityPeriod`, 1-36000).
    public var validityPeriod: Int?
    /// The campaign's MaxPrice (`MaxPrice`), set from `budget.max_price`.
    public var maxPrice: String?

    public init() {}
}
