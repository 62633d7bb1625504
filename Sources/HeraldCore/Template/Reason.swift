/// Why a row is where it is: a problem found in its CSV row, a decision made when it
/// was claimed (budget, send window, cancel), a provider's answer, or a crash. One
/// type for every reason, stored in the journal as its text code and shown by
/// `herald status`.
public enum Reason: String, Sendable, CaseIterable, Codable {
    // Row problems, found at import.
    case malformedRow = "malformed_row"
    case invalidUTF8 = "invalid_utf8"
    case badNumber = "bad_number"
    case missingValue = "missing_value"
    case invalidValue = "invalid_value"
    case duplicate
    /// The rendered message is longer than the provider accepts.
    case tooLong = "too_long"
    /// The price book has no price for the destination's region and the channel.
    case noPrice = "no_price"
    /// No provider of the campaign's `providers:` list takes the row (its country, its
    /// channel, or a price for it).
    case noRoute = "no_route"
    /// The time zone column holds something that is not an IANA zone.
    case badTimezone = "bad_timezone"
    /// A send window applies but no time zone is known for the number's country.
    case noTimezone = "no_timezone"
    /// The rendered content breaks a rule of the provider (an RCS button label too
    /// long, a URL that is not https, a date that is not ISO 8601).
    case invalidContent = "invalid_content"
    /// The campaign's `where:` leaves the row out: not an error, never sent, never charged.
    case filtered

    // Decisions made when a row is claimed.
    /// The message costs more than the campaign's MaxPrice (or AWS said so).
    case maxPrice = "max_price"
    /// The recipient's send window is closed: the row waits until it opens.
    case window
    /// Every identity of its provider's sender pool it may use reached its `daily_cap`: the
    /// row waits for the next UTC day.
    case senderCap = "sender_cap"
    /// `herald cancel`: the row will never be sent.
    case cancelled
    /// The number is on the journal's suppression list (it opted out, or was added).
    case suppressed
    /// The recipient already got `frequency_cap.messages` messages in its window.
    case frequencyCap = "frequency_cap"

    // Provider answers.
    /// Refused for good (invalid number, blocked country).
    case rejected
    /// Refused because the recipient opted out (AWS `DESTINATION_PHONE_NUMBER_OPTED_OUT`):
    /// the number joins the suppression list.
    case optedOut = "opted_out"
    /// Failed this time (a 5xx answer); retried, then failed.
    case transient
    /// The request never reached the provider (connection refused, connect timeout):
    /// this attempt was provably not delivered. Retried, then failed.
    case unreached
    /// Too fast: sent again later without spending an attempt.
    case throttled
    /// The provider's spend limit is reached: the row waits for the next run.
    case spendLimit = "spend_limit"
    /// The provider refused the whole campaign (credentials, unknown sender).
    case campaignRefused = "campaign_refused"
    /// The request left but no answer came back: it may have been delivered.
    case lostAnswer = "lost_answer"
    /// Moved to another provider of the campaign (failover): its own proved it never took
    /// the message (never reached, refused the campaign, or throttled while demoted), and no
    /// earlier attempt may have got through. Due again at once, through the new provider.
    case rerouted
    /// Sent as RCS directly (an AWS RCS agent ARN, which never falls back itself), and a final
    /// receipt proved it was not delivered (`RCS_FAILED`, `RCS_TTL_EXPIRED`): due again at once
    /// as SMS, from the template's `fallback_sms`, through the provider its `sms_fallback:` names.
    case rcsFallback = "rcs_fallback"

    // Recovery.
    /// The row was being sent when its process died: it may have been delivered.
    case interrupted

    /// Whether a failure for this reason shows the message was never delivered. Only
    /// such a failure may end a row whose earlier attempt may have got through as
    /// `failed`; any other failure leaves it in doubt.
    public var provesNotDelivered: Bool {
        switch self {
        case .transient, .unreached, .rerouted, .rcsFallback, .lostAnswer, .interrupted, .throttled, .spendLimit, .campaignRefused: false
        default: true
        }
    }

    /// Whether this reason says an attempt's outcome is unknown.
    public var isDoubt: Bool { self == .lostAnswer || self == .interrupted }
}
