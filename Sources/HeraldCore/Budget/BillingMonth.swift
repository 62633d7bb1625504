/// A calendar month in UTC as `yyyymm` (202612), the key of the monthly spend ledger.
public enum BillingMonth {
    /// The month containing `milliseconds` since 1970 (UTC).
    public static func of(milliseconds: Int64) -> Int {
        // Days to civil date (Howard Hinnant's algorithm), valid for any Int64 day count we meet.
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Int(year * 100 + month)
    }
}
