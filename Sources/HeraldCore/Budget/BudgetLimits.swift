/// The three budget layers of a campaign, each optional.
public struct BudgetLimits: Sendable, Equatable, Codable {
    /// No single message (all its parts) may cost more; such recipients are skipped.
    public var maxPrice: Money?
    /// Total spend of this campaign.
    public var campaignLimit: Money?
    /// Spend of every campaign in the journal in one calendar month (UTC) and channel.
    public var monthlyLimit: Money?

    public init(maxPrice: Money? = nil, campaignLimit: Money? = nil, monthlyLimit: Money? = nil) {
        self.maxPrice = maxPrice
        self.campaignLimit = campaignLimit
        self.monthlyLimit = monthlyLimit
    }

    public var isEmpty: Bool { maxPrice == nil && campaignLimit == nil && monthlyLimit == nil }
}

/// The budget decision for one message, given what is already spent or reserved.
/// A pure function of its inputs, so every boundary is testable without a journal.
public enum BudgetDecision: Sendable, Equatable {
    /// Reserve the cost and send.
    case admit
    /// This recipient alone costs more than MaxPrice: skip it, go on.
    case overMaxPrice
    /// Sending would pass the campaign or monthly limit: stop before it.
    case exhausted(BudgetLimitKind)
}

public enum BudgetLimitKind: String, Sendable, Equatable, Codable {
    case campaign = "campaign_limit"
    case monthly = "monthly_limit"
    case provider = "provider_spend_limit"
}

extension BudgetLimits {
    /// `campaignSpent` and `monthSpent` include reservations of messages in flight
    /// and in doubt. Reaching a limit exactly is allowed; one nano-dollar over is not.
    public func decide(cost: Money, campaignSpent: Money, monthSpent: Money) -> BudgetDecision {
        if let maxPrice, cost > maxPrice { return .overMaxPrice }
        if let campaignLimit, campaignSpent + cost > campaignLimit { return .exhausted(.campaign) }
        if let monthlyLimit, monthSpent + cost > monthlyLimit { return .exhausted(.monthly) }
        return .admit
    }
}
