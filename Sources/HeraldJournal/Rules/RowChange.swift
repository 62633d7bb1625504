import HeraldCore

/// What a rule does to one row: its new columns, the counter it moves to, the ledger
/// change and what else must change in the same transaction. A store applies it only
/// while the row is still in the state the rule started from (for a settlement:
/// `sending`, held by this sender), and applies the rest only for rows it changed.
public struct RowChange: Sendable, Equatable {
    public let row: Int
    public var state: MessageState
    public var reason: String?
    public var detail: String?
    /// Stored when set; nil keeps the row's reference.
    public var providerRef: String?
    public var notBefore: Int64?
    /// Added to the row's attempts.
    public var attempts: Int
    /// Why an attempt of this row may have been delivered, when this change says so; nil
    /// keeps what the row had.
    public var doubt: String?
    /// Whether the row keeps the month its cost is reserved (or spent) in.
    public var keepsReservation: Bool
    /// Stored in `earlier_spent` when set (`EarlierSpend`); nil keeps the column.
    public var earlierSpent: Int64?
    /// The counter the row leaves and the one it joins.
    public var from: TallyKey
    public var to: TallyKey
    public var ledger: LedgerDelta?
    /// Put the row's number on the suppression list (for every sender).
    public var suppression: SuppressionRequest?
    /// What the change moves in the report's counters, when it moves them.
    public var report: ReportMove?
    /// The row's new provider, parts and cost, when it moves to another provider (failover);
    /// the store records the switch with it.
    public var move: RouteMove?

    /// The row went back to `pending`: the store's pending cursor must look at it again.
    public var putsBack: Bool { state == .pending }
}

/// A number to list because of what happened to a row.
public struct SuppressionRequest: Sendable, Hashable {
    public var reason: String
    public var source: SuppressionSource

    public init(reason: String, source: SuppressionSource) {
        self.reason = reason
        self.source = source
    }

    /// The provider answered that the recipient opted out.
    public static let optedOut = SuppressionRequest(reason: "opted out (provider answer)", source: .optedOut)
}

extension Settlement {
    /// Whether the rule needs the row's earlier doubt to decide (a failure that proves
    /// nothing): only then does a store read it.
    public var needsDoubt: Bool { state == .failed && !(reason?.provesNotDelivered ?? true) }

    /// The settlement rule. Most answers settle the row as they say. A failure that does
    /// not prove the message undelivered leaves a row whose earlier attempt may have got
    /// through (`doubt`) `in_doubt`, with its reservation, instead of `failed`. An answer
    /// that is itself a lost answer records the doubt. An opted-out answer lists the number.
    /// A lost answer sent again with the same idempotency key (`retry`, `lost_answer`) counts
    /// its reservation as spent and makes the resend free, as a takeover's resend does: the
    /// provider bills the message once, whichever attempt got through, and a receipt for
    /// the first attempt then spends nothing more. Releasing the reservation instead let the
    /// budget give it away before that receipt spent it (the rules' property test found it:
    /// spend past the campaign limit).
    /// `time` is when the store records it (a sent row counts in that minute).
    public func change(doubt earlier: String? = nil, at time: Int64) -> RowChange {
        var state = self.state
        var reason = self.reason?.rawValue
        var detail = self.detail
        var notBefore = self.notBefore
        if state == .pending, !countsAttempt, reserved == 0, cost != 0 {
            // A free resend (its cost counted when it was made due again) handed back unsent
            // stays due, as `retry`: claimed ahead of new rows and whatever the budget says.
            // Back in `pending` it waited behind rows the budget no longer admits, counted as
            // spent and never sent (a journey found it: seed 10112).
            state = .retry
            reason = Reason.interrupted.rawValue
            notBefore = time
        }
        if needsDoubt, let earlier {
            state = .inDoubt
            reason = earlier
            detail = "an earlier attempt may have been delivered (\(earlier)); then \(self.detail ?? self.reason?.rawValue ?? "")"
        }
        let report = ReportCounters.moves(from: .sending, to: state) || (move.map { $0.cost != cost } ?? false)
            ? ReportMove(region: region, cost: cost, from: .sending, at: time, to: state, at: time, costAfter: move?.cost) : nil
        let reservation = reserved ?? cost
        let resentAsIs = state == .retry && self.reason == .lostAnswer && reservation != 0
        return RowChange(
            row: row, state: state, reason: reason, detail: detail, providerRef: providerRef, notBefore: notBefore,
            attempts: countsAttempt ? 1 : 0, doubt: self.reason?.isDoubt == true ? self.reason?.rawValue : nil,
            keepsReservation: state == .sent || state == .inDoubt,
            earlierSpent: resentAsIs ? EarlierSpend.resendIsFree : nil,
            from: TallyKey(.sending), to: TallyKey(state, code: reason),
            ledger: resentAsIs ? LedgerDelta(month: month, reserved: -reservation, spent: reservation)
                : LedgerDelta.settling(cost: reservation, month: month, as: state),
            suppression: self.reason == .optedOut ? .optedOut : nil, report: report, move: move)
    }
}
