/// Date-times as RCS calendar events take them: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, then `Z` or an offset (`+01:00`, `-0500`). Parsed by hand: rows are
/// checked by the million.
public enum ISO8601 {
    /// Seconds since 1970-01-01T00:00:00Z, or nil when `text` is not such a date-time.
    public static func parse(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { bytes in
            var cursor = Cursor(bytes: bytes)
            return cursor.dateTime()
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func dateTime() -> Double? {
            guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
                let day = digits(2), expect(UInt8(ascii: "T")), let hour = digits(2), expect(UInt8(ascii: ":")),
                let minute = digits(2), expect(UInt8(ascii: ":")), let second = digits(2)
            else { return nil }
            guard (1...12).contains(month), day >= 1, day <= ISO8601.daysIn(month: month, year: year), hour <= 23,
                minute <= 59, second <= 60
            else { return nil }
            var fraction = 0.0
            if expect(UInt8(ascii: ".")) {
                var scale = 0.1
                let start = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    fraction += Double(bytes[index] - 0x30) * scale
                    scale /= 10
                    index += 1
                }
                guard index > start else { return nil }
            }
            var offset = 0
            if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) {
                offset = 0
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                index += 1
                guard let hours = digits(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let minutes = digits(2), hours <= 23, minutes <= 59 else { return nil }
                offset = (hours * 3600 + minutes * 60) * sign
            } else {
                return nil
            }
            guard index == bytes.count else { return nil }
            let days = ISO8601.daysFromCivil(year: year, month: month, day: day)
            return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
