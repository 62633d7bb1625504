/// Why a recipient row is not sent. The raw value is the code stored in the
/// journal and shown by `herald status`.
public enum SkipReason: String, Sendable, CaseIterable, Codable {
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
    /// The message costs more than the campaign's MaxPrice.
    case maxPrice = "max_price"
    /// The time zone column holds something that is not an IANA zone.
    case badTimezone = "bad_timezone"
    /// A send window applies but no time zone is known for the number's country.
    case noTimezone = "no_timezone"
    /// The rendered content breaks a rule of the provider (an RCS button label too
    /// long, a URL that is not https, a date that is not ISO 8601).
    case invalidContent = "invalid_content"
}

/// One problem with one recipient row. `detail` never holds a phone number.
public struct RowProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: SkipReason
    public var column: String?
    public var detail: String

    public init(reason: SkipReason, column: String? = nil, detail: String) {
        self.reason = reason
        self.column = column
        self.detail = detail
    }

    public var description: String {
        if let column { return "column \"\(column)\": \(detail)" }
        return detail
    }
}
