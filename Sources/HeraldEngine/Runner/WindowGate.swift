import Foundation
import HeraldCore
import HeraldJournal

/// Answers "may this recipient be messaged now?" for the journal's claims: each
/// distinct zone list's window state is computed once and reused until it changes.
///
/// `@unchecked Sendable`: used only on the journal's serial queue, one call at a time.
final class WindowGate: @unchecked Sendable {
    private let window: SendWindow
    private var cache: [String: (open: Bool, until: Int64)] = [:]

    init(window: SendWindow) {
        self.window = window
    }

    /// nil when the window is open for `timeZones` at `now`, else when it opens (ms).
    func check(_ timeZones: String?, now: Int64) -> Int64? {
        guard let timeZones else { return nil }
        if let cached = cache[timeZones], now < cached.until { return cached.open ? nil : cached.until }
        let zones = timeZones.split(separator: ",").compactMap { TimeZone(identifier: String($0)) }
        guard !zones.isEmpty else { return nil }
        let state = window.state(at: Date(timeIntervalSince1970: Double(now) / 1000), inEvery: zones)
        let until = Int64((state.until.timeIntervalSince1970 * 1000).rounded(.up))
        cache[timeZones] = (state.open, until)
        return state.open ? nil : until
    }

    var sendGate: SendGate { { [self] zones, now in check(zones, now: now) } }
}
