/// Where a suppressed number came from.
public enum SuppressionSource: String, Sendable, Codable {
    /// `herald suppress add`.
    case manual
    /// `herald suppress import`.
    case imported = "import"
    /// The provider answered that the recipient opted out.
    case optedOut = "opted_out"
    /// `herald suppress sync` from the provider's opt-out list.
    case sync
    /// The recipient replied with a stop keyword (the receipts server).
    case reply
    /// A receipt said the number is invalid, in a campaign with `suppress_undeliverable`.
    case undeliverable
}

/// One number on the suppression list.
public struct SuppressionEntry: Sendable {
    /// E.164 digits.
    public let destination: UInt64
    /// The sender it applies to (an origination identity, agent or source); "" for all.
    public let scope: String
    public let reason: String?
    public let source: SuppressionSource
    /// Milliseconds since 1970.
    public let addedAt: Int64

    public init(destination: UInt64, scope: String = "", reason: String? = nil, source: SuppressionSource, addedAt: Int64) {
        self.destination = destination
        self.scope = scope
        self.reason = reason
        self.source = source
        self.addedAt = addedAt
    }
}
