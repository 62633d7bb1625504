import Foundation
import HeraldCore
import HeraldJournal

/// When the rows not yet sent would all be sent at `rate`, inside their send windows: the
/// progress line's ETA. Rows go in the order a sender takes them (`RemainingRows.ordered`),
/// one group at a time, each only once it falls due and while its zones' window is open; a
/// window that closes on rows not yet sent leaves them for its next opening. Exact (event by
/// event: a group done, a group falling due, a window opening or closing), not stepped.
enum ETA {
    /// Nil without a rate, or when the rows cannot all be sent within a year.
    static func finish(_ groups: [RemainingRows], window: SendWindow?, rate: Double?, now: Date,
                       gate: WindowGate? = nil) -> Date? {
        guard let rate, rate > 0 else { return nil }
        var left = groups.map { Double($0.rows) }
        let gate = gate ?? window.map { WindowGate(window: $0) }
        var time = now.timeIntervalSince1970
        let end = time + 366 * 86_400
        // Each step ends a group, or passes an event; a year of events for every group at most.
        for _ in 0..<(groups.count * 2_000 + 10) {
            var head: Int?
            var next = Double.infinity
            for index in groups.indices where left[index] > 0 {
                if let due = groups[index].due, Double(due) / 1000 > time {
                    next = min(next, Double(due) / 1000)
                    continue
                }
                let state = gate?.state(groups[index].zones, at: Int64((time * 1000).rounded(.down))) ?? (open: true, until: nil)
                let until = state.until.map { Double($0) / 1000 } ?? .infinity
                if !state.open {
                    next = min(next, until)
                } else if head == nil {
                    head = index
                    next = min(next, until)
                }
            }
            guard let head else {
                if !left.contains(where: { $0 > 0 }) { return Date(timeIntervalSince1970: time) }
                guard next <= end else { return nil }
                time = next
                continue
            }
            let done = time + left[head] / rate
            if done <= next {
                left[head] = 0
                time = done
                if !left.contains(where: { $0 > 0 }) { return Date(timeIntervalSince1970: time) }
            } else {
                left[head] -= (next - time) * rate
                time = next
            }
            if time > end { return nil }
        }
        return nil
    }

    /// `groups` as read earlier, brought to the `remaining` rows now: rows sent since leave the
    /// groups a sender takes first (pending in file order, then waiting); rows more than read
    /// (handed back, or never read) may go now.
    static func adjusted(_ groups: [RemainingRows], remaining: Int) -> [RemainingRows] {
        var surplus = remaining - groups.reduce(0) { $0 + $1.rows }
        if surplus >= 0 { return surplus == 0 ? groups : [RemainingRows(zones: nil, due: nil, rows: surplus)] + groups }
        var result = groups
        let order = result.indices.filter { result[$0].due == nil } + result.indices.filter { result[$0].due != nil }
        for index in order where surplus < 0 {
            let taken = min(result[index].rows, -surplus)
            surplus += taken
            result[index] = RemainingRows(zones: result[index].zones, due: result[index].due, rows: result[index].rows - taken)
        }
        return result.filter { $0.rows > 0 }
    }
}
