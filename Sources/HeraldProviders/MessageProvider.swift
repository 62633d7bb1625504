import HeraldCore

/// A rendered message on its way to a provider.
public struct OutboundMessage: Sendable {
    public let campaign: String
    /// The CSV line the recipient came from.
    public let row: Int
    public let destination: PhoneNumber
    public let channel: Channel
    /// The SMS text; for other channels the rendered content as JSON (`MMSContent`,
    /// `VoiceContent`, `RCSContent`, `NotifyContent`), as the journal stores it.
    public let body: String
    /// The body decoded once, here; nil when stored JSON cannot be read.
    public let content: MessageContent?
    /// Derived from campaign id and row: the same for every attempt of one message.
    public let idempotencyKey: String
    /// SMS parts as counted at import and charged (1 for other channels).
    public let parts: Int
    /// Validate only, deliver nothing (AWS `DryRun`, Agile `simulation`).
    public let dryRun: Bool
    /// The identity of the provider's sender pool it goes from (`senders:`): AWS's
    /// `OriginationIdentity`, Twilio's `From`; nil: the provider's configured sender.
    public var sender: String?

    public init(campaign: String, row: Int, destination: PhoneNumber, channel: Channel = .sms, body: String,
                parts: Int, dryRun: Bool = false) {
        self.channel = channel
        self.dryRun = dryRun
        self.campaign = campaign
        self.row = row
        self.destination = destination
        self.body = body
        self.content = MessageContent(stored: body, channel: channel)
        self.idempotencyKey = "\(campaign)/\(row)"
        self.parts = parts
    }
}

/// A provider's answer. Providers never throw for an answer: every outcome is a value.
public enum SendOutcome: Sendable, Equatable {
    /// Accepted for delivery, with the provider's message id.
    case accepted(providerRef: String)
    /// Too fast: send again later (after `retryAfter` when the provider says).
    case throttled(retryAfter: Duration?)
    /// Failed this time (a server error): worth retrying.
    case transient(reason: String)
    /// The request never reached the provider (connection refused, connect timeout, nothing
    /// sent): worth retrying, and proof that this attempt was not delivered, so a campaign
    /// with several providers may move the row to another (failover).
    case unreached(reason: String)
    /// Refused for good (invalid number, blocked country).
    case permanent(reason: String)
    /// Refused because the recipient opted out: never send to this number again.
    case optedOut(reason: String)
    /// Refused because it costs more than the campaign's MaxPrice (AWS
    /// `PRICE_OVER_THRESHOLD`): skipped like a row the price book prices too high.
    case overMaxPrice(reason: String)
    /// The account's spend limit is reached: nothing more can be sent for now.
    case spendLimit(reason: String)
    /// No answer, and the request may have arrived (connection closed or timed out
    /// after sending): the message is in doubt.
    case indeterminate(reason: String)
    /// The campaign cannot succeed for anyone (bad credentials, unknown origination
    /// identity): stop instead of failing every row.
    case campaignRefused(reason: String)
}

/// What a provider guarantees, which decides how the engine may recover.
public struct ProviderCapabilities: Sendable {
    /// A second request with a known idempotency key is acknowledged without a
    /// second delivery, so messages left in doubt by a crash are resent safely.
    public var honoursIdempotencyKeys: Bool
    /// `dryRun` messages are checked by the provider and never delivered (AWS
    /// `DryRun`, Agile `simulation`). Without it, `--dry-run` is refused.
    public var validatesWithoutDelivering: Bool

    public init(honoursIdempotencyKeys: Bool, validatesWithoutDelivering: Bool = true) {
        self.honoursIdempotencyKeys = honoursIdempotencyKeys
        self.validatesWithoutDelivering = validatesWithoutDelivering
    }
}

public protocol MessageProvider: Sendable {
    var name: String { get }
    var capabilities: ProviderCapabilities { get }
    func send(_ message: OutboundMessage) async -> SendOutcome
    /// Releases connections and files. Called once, after the last send.
    func shutdown() async
}
