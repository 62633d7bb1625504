import Foundation

/// A daily send window in local time, such as 09:00-20:00 Monday to Friday. A window
/// whose end is before its start crosses midnight (22:00-02:00); `days` are the days
/// it opens on.
public struct SendWindow: Sendable, Equatable {
    public enum Weekday: String, Sendable, CaseIterable {
        case sun, mon, tue, wed, thu, fri, sat
        /// Calendar's weekday number (Sunday 1).
        var number: Int { Weekday.allCases.firstIndex(of: self)! + 1 }
    }

    /// Minutes after local midnight.
    public let start: Int
    public let end: Int
    public let days: Set<Weekday>

    public init?(start: String, end: String, days: Set<Weekday> = Set(Weekday.allCases)) {
        guard let from = Self.minutes(start), let to = Self.minutes(end), from != to, !days.isEmpty else { return nil }
        self.start = from
        self.end = to
        self.days = days
    }

    /// "09:00" -> 540.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        return hour * 60 + minute
    }

    /// Whether the window is open at `date` in `zone`, and the next instant that
    /// changes it: when it closes if open, when it next opens if closed.
    public func state(at date: Date, in zone: TimeZone) -> (open: Bool, until: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: date)
        var nextOpening: Date?
        // Openings from yesterday (a window crossing midnight) to eight days ahead.
        for offset in -1...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            let weekday = calendar.component(.weekday, from: day)
            guard days.contains(where: { $0.number == weekday }) else { continue }
            guard let opens = at(start, on: day, calendar), let closes = at(end, on: end > start ? day : next(day, calendar), calendar)
            else { continue }
            if opens <= date && date < closes { return (true, closes) }
            if opens > date, nextOpening.map({ opens < $0 }) ?? true { nextOpening = opens }
        }
        return (false, nextOpening ?? date.addingTimeInterval(86_400))
    }

    /// The instant of `minutes` after midnight on `day`; in a DST gap, the first
    /// instant after it.
    private func at(_ minutes: Int, on day: Date, _ calendar: Calendar) -> Date? {
        calendar.date(bySettingHour: minutes / 60, minute: minutes % 60, second: 0, of: day,
                      matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
    }

    private func next(_ day: Date, _ calendar: Calendar) -> Date {
        calendar.date(byAdding: .day, value: 1, to: day) ?? day.addingTimeInterval(86_400)
    }

    /// Open only while open in every zone (a recipient whose zone is one of several).
    public func state(at date: Date, inEvery zones: [TimeZone]) -> (open: Bool, until: Date) {
        var moment = date
        // Move to the next instant where every zone is open, then report until the first closes.
        for _ in 0..<64 {
            let states = zones.map { state(at: moment, in: $0) }
            if let closed = states.filter({ !$0.open }).map(\.until).max() {
                moment = closed
                continue
            }
            let closes = states.map(\.until).min() ?? moment
            return moment == date ? (true, closes) : (false, moment)
        }
        return (false, date.addingTimeInterval(7 * 86_400))
    }
}
