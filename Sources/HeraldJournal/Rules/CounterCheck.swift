import HeraldCore

/// The counters both stores keep, compared with what their rows say: counts by state and by
/// reason (skipped or failed, in doubt, waiting), and the ledger's reservations against the
/// costs the rows still hold. One comparison, so both stores call the same things drift.
public enum CounterCheck {
    /// The facts a store fetched: its counters, and the same counted from the rows.
    public struct Facts: Sendable {
        public var counted: CampaignCounts
        public var fromRows: CampaignCounts
        /// The ledger's reservations for the campaign, nano-USD.
        public var ledgerReserved: Int64
        /// Costs held by rows still sending or in doubt (reserved, not yet spent).
        public var rowsReserved: Int64

        public init(counted: CampaignCounts, fromRows: CampaignCounts, ledgerReserved: Int64, rowsReserved: Int64) {
            self.counted = counted
            self.fromRows = fromRows
            self.ledgerReserved = ledgerReserved
            self.rowsReserved = rowsReserved
        }
    }

    public static func drift(_ facts: Facts) -> [CounterDrift] {
        let counted = facts.counted.normalised, fromRows = facts.fromRows.normalised
        var drift: [CounterDrift] = []
        for state in MessageState.allCases where counted[state] != fromRows[state] {
            drift.append(CounterDrift(what: "rows \(state.name)", counted: Int64(counted[state]), fromRows: Int64(fromRows[state])))
        }
        let pairs: [(String, [Reason: Int], [Reason: Int])] = [
            ("skipped or failed", counted.byReason, fromRows.byReason),
            ("in doubt", counted.inDoubtByReason, fromRows.inDoubtByReason),
            ("waiting", counted.waitingByReason, fromRows.waitingByReason),
        ]
        for (label, a, b) in pairs {
            for reason in Set(a.keys).union(b.keys).sorted(by: { $0.rawValue < $1.rawValue }) where a[reason] != b[reason] {
                drift.append(CounterDrift(what: "\(label) for \(reason.rawValue)", counted: Int64(a[reason] ?? 0),
                                          fromRows: Int64(b[reason] ?? 0)))
            }
        }
        if facts.ledgerReserved != facts.rowsReserved {
            drift.append(CounterDrift(what: "reserved nano-USD", counted: facts.ledgerReserved, fromRows: facts.rowsReserved))
        }
        return drift
    }
}
