import Foundation

/// Campaign settings for the Agile Telecom RCS API (`provider.kind: agile`).
/// Credentials come from the environment only (`AGILE_API_KEY`, else
/// `AGILE_USERNAME` and `AGILE_PASSWORD`).
public struct AgileConfiguration: Sendable, Equatable {
    public static let defaultEndpoint = "https://lora-api.agiletelecom.com"

    public var endpoint = AgileConfiguration.defaultEndpoint
    /// The RCS sender agent (`agentId`).
    public var agentID = 0
    /// SMS sender for the template's `fallback_sms` (`fallbackSms.sender`).
    public var fallbackSender: String?
    /// WhatsApp fallback before SMS (`fallbackWhatsApp`): sender phone number id and template id.
    public var fallbackWhatsApp: WhatsAppFallback?
    /// At most this many SMS parts for the fallback (`maxSmsParts`).
    public var maxSMSParts: Int?
    /// Agile holds the messages and delivers them at this time (`scheduledDate`).
    public var scheduledDate: Date?
    /// Delivery and read notifications to the account's callback (`enableNotification`).
    public var enableNotification: Bool?

    public struct WhatsAppFallback: Sendable, Equatable {
        public var phoneNumberID: Int
        public var templateID: Int

        public init(phoneNumberID: Int, templateID: Int) {
            self.phoneNumberID = phoneNumberID
            self.templateID = templateID
        }
    }

    public init() {}
}
