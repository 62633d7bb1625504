/// Prices in USD by destination region and channel: per SMS part, per MMS or
/// RCS message, per voice minute, per Notify text part. `*` prices every region
/// the book does not name.
public struct PriceBook: Sendable {
    private var prices: [PriceKey: Money] = [:]

    struct PriceKey: Hashable {
        let region: String
        let channel: Channel
    }

    public init() {}

    /// Every price in the book (for checks of what a parser let in).
    public var allPrices: [Money] { Array(prices.values) }

    /// Adds one price; returns false when the same region and channel was already priced.
    @discardableResult
    public mutating func set(region: String, channel: Channel, price: Money) -> Bool {
        prices.updateValue(price, forKey: PriceKey(region: region.uppercased(), channel: channel)) == nil
    }

    /// The unit price for a destination, falling back to `*`; nil when unpriced.
    public func price(region: String, channel: Channel) -> Money? {
        prices[PriceKey(region: region, channel: channel)] ?? prices[PriceKey(region: "*", channel: channel)]
    }

    /// What one message costs: unit price times parts for SMS and Notify text,
    /// times one for a message-priced channel.
    public func cost(region: String, channel: Channel, parts: Int) -> Money? {
        price(region: region, channel: channel).map { Self.cost(unit: $0, channel: channel, parts: parts) }
    }

    /// What one message costs at a unit price.
    public static func cost(unit: Money, channel: Channel, parts: Int) -> Money {
        switch channel {
        case .sms, .notifyText: unit * parts
        case .mms, .rcs, .voice, .notifyVoice: unit
        }
    }
}
