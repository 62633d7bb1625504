import Foundation
import HeraldCore

/// When a campaign would finish at its rate, with recipients waiting for their send
/// windows: sending time is handed out in five-minute steps to the recipients whose
/// window is open, in the order they first appear in the file.
enum FinishTime {
    static let step: TimeInterval = 300

    /// Nil when the rows cannot all be sent within a year.
    static func estimate(groups: [(zones: String?, units: Int)], rate: Double, burst: Double, window: SendWindow?,
                         start: Date) -> Date? {
        var remaining = groups.map { Double($0.units) }
        var total = remaining.reduce(0, +) - burst
        guard total > 0 else { return start }
        guard let window else { return start.addingTimeInterval(total / rate) }
        remaining[0] = max(0, remaining[0] - burst)
        total = remaining.reduce(0, +)
        let gate = WindowGate(window: window)
        let end = start.addingTimeInterval(366 * 86_400)
        var time = start
        while time < end {
            let now = Int64(time.timeIntervalSince1970 * 1000)
            var capacity = rate * step
            var nextOpening: Int64?
            var anyOpen = false
            for index in remaining.indices where remaining[index] > 0 {
                if let opens = gate.check(groups[index].zones, now: now) {
                    nextOpening = min(nextOpening ?? opens, opens)
                    continue
                }
                anyOpen = true
                let sent = min(remaining[index], capacity)
                remaining[index] -= sent
                capacity -= sent
                total -= sent
                if total <= 0 { return time.addingTimeInterval(step - capacity / rate) }
                if capacity <= 0 { break }
            }
            if !anyOpen, let nextOpening {
                time = Date(timeIntervalSince1970: Double(nextOpening) / 1000)
            } else {
                time = time.addingTimeInterval(step)
            }
        }
        return nil
    }
}
