import HeraldCore
/// One recipient row as imported: either a message to send or a reason to skip.
public struct ImportedRow {
    public var row: Int
    /// E.164 digits; nil when the number could not be read.
    public var destination: UInt64?
    public var region: String?
    /// The rendered body (UTF-8); empty for a skipped row.
    public var body: UnsafeBufferPointer<UInt8>
    /// Set for rows that are not to be sent.
    public var skipReason: Reason?
    public var skipDetail: String?
    /// SMS parts (1 for other channels) and the message's cost in nano-dollars.
    public var parts = 1
    public var cost: Int64 = 0
    /// The provider it goes through: its index in the campaign's `providers:` list (0 with one provider).
    public var route = 0
    /// Time zone(s) of the recipient's send window, comma-separated; nil without a window.
    public var timeZones: String?
    /// The template variant's language code (`language:`); nil for a template without languages.
    public var language: String?
    /// Whether the number may appear on an earlier row (a `DestinationFilter` said so),
    /// checked exactly when the import finishes; false when it certainly does not. Nil
    /// lets the writer's own filter decide (on the journal's thread).
    public var maybeRepeat: Bool?

    public init(row: Int, destination: UInt64?, region: String?, body: UnsafeBufferPointer<UInt8>,
                skipReason: Reason? = nil, skipDetail: String? = nil) {
        self.row = row
        self.destination = destination
        self.region = region
        self.body = body
        self.skipReason = skipReason
        self.skipDetail = skipDetail
    }
}
