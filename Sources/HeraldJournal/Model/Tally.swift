import HeraldCore

/// Counts of a campaign's rows by state, and by reason where the reason matters.
public struct CampaignCounts: Sendable, Equatable {
    public var byState: [MessageState: Int] = [:]
    /// Skipped and failed rows by reason.
    public var byReason: [Reason: Int] = [:]
    /// In-doubt rows by why they are in doubt (`interrupted`, `lost_answer`).
    public var inDoubtByReason: [Reason: Int] = [:]
    /// Rows waiting to be sent again, by why (`window`, `throttled`, `transient`...).
    public var waitingByReason: [Reason: Int] = [:]
    public var total: Int { byState.values.reduce(0, +) }
    public subscript(state: MessageState) -> Int { byState[state] ?? 0 }
    /// Rows that still need a send (or a decision, for in-doubt rows).
    public var open: Int { self[.pending] + self[.sending] + self[.retry] + self[.inDoubt] }

    public init() {}

    public mutating func add(state: MessageState, reason code: String, count: Int) {
        guard count != 0 else { return }
        byState[state, default: 0] += count
        guard let reason = Reason(rawValue: code) else { return }
        switch state {
        case .failed, .skipped: byReason[reason, default: 0] += count
        case .inDoubt: inDoubtByReason[reason, default: 0] += count
        case .retry: waitingByReason[reason, default: 0] += count
        default: break
        }
    }

    /// Only non-zero entries, so that two counts compare equal whatever zeros they hold.
    package var normalised: CampaignCounts {
        var copy = self
        copy.byState = byState.filter { $0.value != 0 }
        copy.byReason = byReason.filter { $0.value != 0 }
        copy.inDoubtByReason = inDoubtByReason.filter { $0.value != 0 }
        copy.waitingByReason = waitingByReason.filter { $0.value != 0 }
        return copy
    }
}

/// A counter: a state, and for the states counted per reason, the reason's code.
public struct TallyKey: Hashable, Sendable {
    public let state: MessageState
    public let reason: String

    public init(_ state: MessageState, _ reason: Reason? = nil) {
        self.init(state, code: reason?.rawValue)
    }

    public init(_ state: MessageState, code: String?) {
        self.state = state
        self.reason = state.countsReasons ? (code ?? "") : ""
    }
}

/// The counter changes one transaction makes, written just before it commits, so
/// counters and rows change together or not at all.
public struct TallyChanges: Sendable {
    public private(set) var deltas: [TallyKey: Int] = [:]

    public init() {}

    public mutating func add(_ key: TallyKey, _ count: Int = 1) {
        deltas[key, default: 0] += count
    }

    public mutating func move(from: TallyKey, to: TallyKey, _ count: Int = 1) {
        guard from != to, count != 0 else { return }
        add(from, -count)
        add(to, count)
    }

    public var isEmpty: Bool { deltas.values.allSatisfy { $0 == 0 } }
}

/// Where the counters disagree with the rows (`herald doctor`).
public struct CounterDrift: Sendable, CustomStringConvertible {
    public let what: String
    public let counted: Int64
    public let fromRows: Int64

    package init(what: String, counted: Int64, fromRows: Int64) {
        self.what = what
        self.counted = counted
        self.fromRows = fromRows
    }

    public var description: String { "\(what): counters say \(counted), the rows say \(fromRows)" }
}

extension TallyChanges {
    public mutating func merge(_ other: TallyChanges) {
        for (key, count) in other.deltas { add(key, count) }
    }
}
