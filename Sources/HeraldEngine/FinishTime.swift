import Foundation
import HeraldCore
import HeraldJournal

/// When a campaign would finish at its rate, with recipients waiting for their send windows:
/// the burst goes at once, then the rows by zone in the order they first appear in the file,
/// each while its window is open (`ETA`, the progress line's rule, from the start).
enum FinishTime {
    /// Nil when the rows cannot all be sent within a year.
    static func estimate(groups: [(zones: String?, units: Int)], rate: Double, burst: Double, window: SendWindow?,
                         start: Date) -> Date? {
        var burstLeft = Int(clamping: Int64(exactly: burst.rounded(.down)) ?? 0)
        var rows: [RemainingRows] = []
        for group in groups {
            let taken = min(group.units, burstLeft)
            burstLeft -= taken
            rows.append(RemainingRows(zones: group.zones, due: nil, rows: group.units - taken))
        }
        return ETA.finish(rows, window: window, rate: rate, now: start)
    }
}
