import HeraldCore

/// What a step needs to apply the budget guard while claiming.
public struct BudgetContext: Sendable {
    public var limits: BudgetLimits
    public var channel: Channel

    public init(limits: BudgetLimits, channel: Channel) {
        self.limits = limits
        self.channel = channel
    }
}

/// Spend of one campaign in one month and channel.
public struct LedgerEntry: Sendable, Codable {
    public let month: Int
    public let channel: String
    /// Reserved by messages in flight or in doubt.
    public let reserved: Money
    /// Settled by messages the provider accepted.
    public let spent: Money

    public init(month: Int, channel: String, reserved: Money, spent: Money) {
        self.month = month
        self.channel = channel
        self.reserved = reserved
        self.spent = spent
    }
}
