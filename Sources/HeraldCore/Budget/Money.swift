/// An amount of US dollars in fixed point: whole nano-dollars (10⁻⁹ USD), never
/// floating point. Parsed exactly from decimal text; at most 9 decimals.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000_000
    public static let zero = Money(nanos: 0)

    public var nanos: Int64

    public init(nanos: Int64) {
        self.nanos = nanos
    }

    /// Parses `"0.05"`, `"500"`, `"1234.567890123"`, optionally with a leading `$`.
    /// Nil for anything else: signs, exponents, more than 9 decimals, overflow.
    public init?(_ text: some StringProtocol) {
        var bytes = Substring(text).utf8[...]
        while bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        if bytes.first == UInt8(ascii: "$") { bytes = bytes.dropFirst() }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var sawDot = false
        var sawDigit = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard !sawDot else { return nil }
                sawDot = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            sawDigit = true
            let digit = Int64(byte - UInt8(ascii: "0"))
            if sawDot {
                fractionDigits += 1
                guard fractionDigits <= 9 else { return nil }
                fraction = fraction * 10 + digit
            } else {
                let (times, overflow1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                whole = sum
            }
        }
        guard sawDigit else { return nil }
        for _ in fractionDigits..<9 { fraction *= 10 }
        let (scaled, overflow1) = whole.multipliedReportingOverflow(by: Self.scale)
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        guard !overflow1, !overflow2 else { return nil }
        nanos = total
    }

    /// Decimal places the amount needs (0 for whole dollars).
    public var decimals: Int {
        var rest = nanos % Self.scale
        if rest == 0 { return 0 }
        var places = 9
        while rest % 10 == 0 {
            rest /= 10
            places -= 1
        }
        return places
    }

    /// `12.5` -> "12.50": at least two decimals, more only when the amount has them.
    public var description: String {
        let negative = nanos < 0
        let magnitude = nanos.magnitude
        let whole = magnitude / UInt64(Self.scale)
        var fraction = String(magnitude % UInt64(Self.scale))
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 2, fraction.last == "0" { fraction.removeLast() }
        return "\(negative ? "-" : "")\(whole).\(fraction)"
    }

    /// The most one message may cost, all parts and fees included: a price from outside
    /// (a provider's receipt, a price book, `max_price`) above it is refused where it is
    /// parsed. A million messages at this price still sum far inside `Int64` nano-dollars.
    public static let largestPrice = Money(nanos: 1_000 * scale)

    /// Whether this is a price Herald takes from outside: 0 to `largestPrice`.
    public var isPrice: Bool { nanos >= 0 && nanos <= Self.largestPrice.nanos }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.nanos < rhs.nanos }

    // Arithmetic saturates at ±9.2 billion dollars instead of trapping: amounts come from
    // outside and from journals (an older release may have stored anything), and no
    // reader may crash on them. Prices are range-checked where they are parsed, so only
    // such stored data ever reaches the bounds.
    public static func + (lhs: Money, rhs: Money) -> Money { Money(nanos: saturating(lhs.nanos.addingReportingOverflow(rhs.nanos), lhs.nanos)) }
    public static func - (lhs: Money, rhs: Money) -> Money {
        Money(nanos: saturating(lhs.nanos.subtractingReportingOverflow(rhs.nanos), lhs.nanos))
    }
    public static func += (lhs: inout Money, rhs: Money) { lhs = lhs + rhs }
    public static func * (lhs: Money, rhs: Int) -> Money {
        let (product, overflow) = lhs.nanos.multipliedReportingOverflow(by: Int64(clamping: rhs))
        guard overflow else { return Money(nanos: product) }
        return Money(nanos: (lhs.nanos < 0) != (rhs < 0) ? .min : .max)
    }

    /// The result, or the bound it passed (the direction `lhs` was heading).
    private static func saturating(_ result: (partialValue: Int64, overflow: Bool), _ lhs: Int64) -> Int64 {
        guard result.overflow else { return result.partialValue }
        return lhs < 0 ? .min : .max
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Money(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an amount: \(text)"))
        }
        self = value
    }

    /// Encoded as a decimal string, so JSON readers never see a rounded float.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
