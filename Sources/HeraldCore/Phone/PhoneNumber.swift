/// A destination normalised to E.164, with the region its calling code belongs to.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The digits after `+`, as a number (E.164 allows at most 15 digits).
    public let digits: UInt64
    /// ISO 3166 alpha-2 region derived from the calling code.
    public let region: String

    public var e164: String { "+\(digits)" }

    /// The calling code and at most the last four digits, never more than half of the
    /// national number, the rest as stars: `+1******0101`, `+290***45`.
    public var masked: String {
        var bytes: [UInt8] = []
        Self.appendMasked(digits: digits, region: region, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `masked` written into `output`, for exports of millions of rows (no parse, no string).
    public static func appendMasked(digits: UInt64, region: String, to output: inout [UInt8]) {
        var reversed: [UInt8] = []
        var rest = digits
        repeat {
            reversed.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        let count = reversed.count
        var codeLength = 1
        if let code = CallingCodes.codeByRegion[region] { codeLength = code >= 100 ? 3 : code >= 10 ? 2 : 1 }
        output.append(UInt8(ascii: "+"))
        guard count > codeLength else {
            output.append(contentsOf: repeatElement(UInt8(ascii: "*"), count: count))
            return
        }
        let shown = Swift.min(4, (count - codeLength) / 2)
        for index in 0..<count {
            let position = count - 1 - index
            output.append(index < codeLength || index >= count - shown ? reversed[position] : UInt8(ascii: "*"))
        }
    }
    public var description: String { e164 }

    public init(digits: UInt64, region: String) {
        self.digits = digits
        self.region = region
    }

    /// Reconstructs a number stored as its digits, deriving the region again.
    public init?(storedDigits: UInt64) {
        var digits = Digits()
        for byte in String(storedDigits).utf8 { digits.append(byte - UInt8(ascii: "0")) }
        guard let parsed = try? PhoneNumber.parseDigits(digits) else { return nil }
        self = parsed
    }

    /// Normalises what a person typed: `+44 7700 900123`, `0044 (7700) 900-123`, or a
    /// national number such as `07700 900123` when a default region is given.
    /// Spaces, dots, dashes, slashes and parentheses are ignored. The message of a
    /// thrown error never contains the number itself.
    public static func parse<Bytes: Collection<UInt8>>(
        _ input: Bytes, defaultRegion: String? = nil
    ) throws(PhoneNumberError) -> PhoneNumber {
        try parseBytes(input, defaultRegion: defaultRegion)
    }

    /// A CSV cell, as the scanner reads a million of them: specialised in this module, where a
    /// generic call from another would step through the bytes by witness table.
    public static func parse(_ input: UnsafeBufferPointer<UInt8>, defaultRegion: String? = nil) throws(PhoneNumberError) -> PhoneNumber {
        try parseBytes(input, defaultRegion: defaultRegion)
    }

    private static func parseBytes<Bytes: Collection<UInt8>>(
        _ input: Bytes, defaultRegion: String?
    ) throws(PhoneNumberError) -> PhoneNumber {
        // At most 17 digits matter (a 15-digit number behind 00); more is an error anyway.
        var digits = Digits()
        var international = false
        for byte in input {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "+"):
                guard digits.count == 0, !international else { throw .misplacedPlus }
                international = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("),
                UInt8(ascii: ")"), UInt8(ascii: "/"), UInt8(ascii: "\t"):
                continue
            default:
                throw .invalidCharacter
            }
        }
        guard digits.count > 0 else { throw .empty }
        if !international, digits.count > 2, digits[0] == 0, digits[1] == 0 {
            digits.dropFirst(2)
            international = true
        }
        if !international {
            guard let region = defaultRegion else { throw .nationalWithoutDefaultCountry }
            guard let code = CallingCodes.codeByRegion[region] else { throw .unknownDefaultCountry(region) }
            if let trunk = CallingCodes.trunkPrefix(for: region), digits[0] == trunk - UInt8(ascii: "0"),
                !(code == 1 && digits.count == 10)
            {
                digits.dropFirst(1)
            }
            digits.prepend(code)
        }
        return try parseDigits(digits)
    }

    /// Reads a calling code off the front of the digits and checks the rest.
    static func parseDigits(_ digits: Digits) throws(PhoneNumberError) -> PhoneNumber {
        guard digits.count <= 15 else { throw .tooLong(digits.count) }
        guard digits[0] != 0 else { throw .unknownCallingCode }
        var code = 0
        var codeLength = 0
        var found: String?
        for length in 1...3 where length < digits.count {
            code = code * 10 + Int(digits[length - 1])
            if let region = CallingCodes.regionTable[code] {
                found = region
                codeLength = length
                break
            }
        }
        guard var region = found else { throw .unknownCallingCode }
        let national = digits.count - codeLength
        var expected = CallingCodes.lengthTable[code]
        if code == 1 {
            guard national == 10 else { throw .wrongLength(region: "NANP", found: national, expected: 10...10) }
            guard digits[1] >= 2, digits[4] >= 2 else { throw .invalidNANP }
            region = NANP.region(areaCode: Int(digits[1]) * 100 + Int(digits[2]) * 10 + Int(digits[3]))
            expected = nil
        } else if code == 7, digits[1] == 6 || digits[1] == 7 {
            region = "KZ"
        }
        if let expected {
            guard expected.contains(national) else { throw .wrongLength(region: region, found: national, expected: expected) }
        } else if code != 1, national < 4 {
            throw .wrongLength(region: region, found: national, expected: 4...(15 - codeLength))
        }
        var value: UInt64 = 0
        for index in 0..<digits.count { value = value * 10 + UInt64(digits[index]) }
        return PhoneNumber(digits: value, region: region)
    }
}

/// Up to 24 decimal digits in fixed storage: parsing a number allocates nothing.
struct Digits {
    private var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private(set) var count = 0

    subscript(index: Int) -> UInt8 {
        withUnsafeBytes(of: storage) { $0[index] }
    }

    mutating func append(_ digit: UInt8) {
        guard count < 24 else {
            count += 1  // remember the length for the error; the digit itself is not needed
            return
        }
        withUnsafeMutableBytes(of: &storage) { $0[count] = digit }
        count += 1
    }

    mutating func dropFirst(_ n: Int) {
        let kept = min(count, 24) - n
        withUnsafeMutableBytes(of: &storage) { bytes in
            for index in 0..<kept { bytes[index] = bytes[index + n] }
        }
        count -= n
    }

    /// Puts a calling code's digits in front.
    mutating func prepend(_ code: Int) {
        let text = Array(String(code).utf8)
        let kept = min(count, 24 - text.count)
        withUnsafeMutableBytes(of: &storage) { bytes in
            for index in stride(from: kept - 1, through: 0, by: -1) { bytes[index + text.count] = bytes[index] }
            for (index, byte) in text.enumerated() { bytes[index] = byte - UInt8(ascii: "0") }
        }
        count += text.count
    }
}

/// Why a phone number was rejected. Messages describe the shape, never the number.
public enum PhoneNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case invalidCharacter
    case misplacedPlus
    case nationalWithoutDefaultCountry
    case unknownDefaultCountry(String)
    case unknownCallingCode
    case tooLong(Int)
    case wrongLength(region: String, found: Int, expected: ClosedRange<Int>)
    case invalidNANP

    public var description: String {
        switch self {
        case .empty: return "no phone number"
        case .invalidCharacter: return "phone number holds a character other than digits, +, spaces, dots, dashes, slashes or parentheses"
        case .misplacedPlus: return "phone number has a + that is not at its start"
        case .nationalWithoutDefaultCountry: return "phone number has no +country code and the campaign sets no default_country"
        case .unknownDefaultCountry(let region): return "default_country \(region) is not a known ISO 3166 region"
        case .unknownCallingCode: return "phone number does not start with a known country calling code"
        case .tooLong(let count): return "phone number has \(count) digits; E.164 allows at most 15"
        case .wrongLength(let region, let found, let expected):
            let range = expected.lowerBound == expected.upperBound ? "\(expected.lowerBound)" : "\(expected.lowerBound)-\(expected.upperBound)"
            return "phone number has \(found) digits after the \(region) calling code; expected \(range)"
        case .invalidNANP: return "phone number is not a valid North American number (area code and exchange cannot start with 0 or 1)"
        }
    }
}
