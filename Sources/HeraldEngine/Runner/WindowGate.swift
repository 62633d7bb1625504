import Foundation
import HeraldCore
import HeraldJournal

/// Answers "may this recipient be messaged now?" for the journal's claims: each
/// distinct zone list's window state is computed once and reused until it changes.
///
/// `@unchecked Sendable`: used only on the journal's serial queue, one call at a time.
final class WindowGate: @unchecked Sendable {
    private let window: SendWindow
    private var cache: [String: (from: Int64, open: Bool, until: Int64)] = [:]

    init(window: SendWindow) {
        self.window = window
    }

    /// Whether the window is open for `timeZones` (identifiers joined by commas) at `now` (ms),
    /// and until when that holds (nil: always; a row with no zones, or none known, is never held).
    func state(_ timeZones: String?, at now: Int64) -> (open: Bool, until: Int64?) {
        guard let timeZones else { return (true, nil) }
        if let cached = cache[timeZones], cached.from <= now, now < cached.until { return (cached.open, cached.until) }
        let zones = timeZones.split(separator: ",").compactMap { TimeZone(identifier: String($0)) }
        guard !zones.isEmpty else { return (true, nil) }
        let state = window.state(at: Date(timeIntervalSince1970: Double(now) / 1000), inEvery: zones)
        let until = max(Int64((state.until.timeIntervalSince1970 * 1000).rounded(.up)), now + 1)
        cache[timeZones] = (now, state.open, until)
        return (state.open, until)
    }

    /// nil when the window is open for `timeZones` at `now`, else when it opens (ms).
    func check(_ timeZones: String?, now: Int64) -> Int64? {
        let state = state(timeZones, at: now)
        return state.open ? nil : state.until
    }

    var sendGate: SendGate { { [self] zones, now in check(zones, now: now) } }
}
