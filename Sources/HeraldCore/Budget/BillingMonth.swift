/// A calendar month in UTC as `yyyymm` (202612), the key of the monthly spend ledger.
public enum BillingMonth {
    /// The month containing `milliseconds` since 1970 (UTC).
    public static func of(milliseconds: Int64) -> Int {
        let date = CivilDate(milliseconds: milliseconds)
        return date.year * 100 + date.month
    }

    /// `2026-12` for 202612, as people read a month; a number that is no month prints as it is.
    public static func label(_ month: Int) -> String {
        let (year, number) = month.quotientAndRemainder(dividingBy: 100)
        guard (1...12).contains(number), (1...9999).contains(year) else { return String(month) }
        return (year < 1000 ? String(repeating: "0", count: 4 - String(year).count) : "") + "\(year)-\(number < 10 ? "0" : "")\(number)"
    }
}

/// A UTC calendar date from milliseconds since 1970 (Howard Hinnant's days-to-civil
/// algorithm), without a formatter: for code that meets millions of timestamps.
public struct CivilDate: Equatable, Sendable {
    public let year: Int
    public let month: Int
    public let day: Int
    /// Seconds into the day (0..<86400).
    public let secondOfDay: Int

    public init(milliseconds: Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        secondOfDay = Int(seconds - days * 86400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    }
}
