/// A change to the spend ledger: reserved and spent, in nano-dollars, for one month.
public struct LedgerDelta: Sendable, Equatable {
    public var month: Int
    public var reserved: Int64
    public var spent: Int64

    public init(month: Int, reserved: Int64, spent: Int64) {
        self.month = month
        self.reserved = reserved
        self.spent = spent
    }

    /// The ledger rule for a row that leaves its reservation: accepted, the reservation
    /// becomes spend; in doubt, it is kept (the message may have been delivered);
    /// anything else (failed, retry, skipped, back to pending) releases it.
    public static func settling(cost: Int64, month: Int, as state: MessageState) -> LedgerDelta? {
        guard cost != 0, state != .inDoubt else { return nil }
        return LedgerDelta(month: month, reserved: -cost, spent: state == .sent ? cost : 0)
    }
}

/// Ledger changes of one transaction, summed by month, so each month's rows are
/// written once.
public struct LedgerDeltas: Sendable, Equatable {
    public private(set) var byMonth: [Int: LedgerDelta] = [:]

    public init() {}

    public mutating func add(_ delta: LedgerDelta?) {
        guard let delta, delta.reserved != 0 || delta.spent != 0 else { return }
        var sum = byMonth[delta.month] ?? LedgerDelta(month: delta.month, reserved: 0, spent: 0)
        sum.reserved += delta.reserved
        sum.spent += delta.spent
        byMonth[delta.month] = sum
    }

    /// In month order, so concurrent writers lock ledger rows in one order.
    public var deltas: [LedgerDelta] { byMonth.keys.sorted().compactMap { byMonth[$0] } }
}
