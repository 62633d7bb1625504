/// A destination normalised to E.164, with the region its calling code belongs to.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The digits after `+`, as a number (E.164 allows at most 15 digits).
    public let digits: UInt64
    /// ISO 3166 alpha-2 region derived from the calling code.
    public let region: String

    public var e164: String { "+\(digits)" }
    public var description: String { e164 }

    public init(digits: UInt64, region: String) {
        self.digits = digits
        self.region = region
    }

    /// Reconstructs a number stored as its digits, deriving the region again.
    public init?(storedDigits: UInt64) {
        var buffer = Array(String(storedDigits).utf8)
        guard let parsed = try? PhoneNumber.parseDigits(&buffer) else { return nil }
        self = parsed
    }

    /// Normalises what a person typed: `+44 7700 900123`, `0044 (7700) 900-123`, or a
    /// national number such as `07700 900123` when a default region is given.
    /// Spaces, dots, dashes, slashes and parentheses are ignored. The message of a
    /// thrown error never contains the number itself.
    public static func parse<Bytes: Collection<UInt8>>(
        _ input: Bytes, defaultRegion: String? = nil
    ) throws(PhoneNumberError) -> PhoneNumber {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var international = false
        var sawDigit = false
        for byte in input {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
                sawDigit = true
            case UInt8(ascii: "+"):
                guard !sawDigit, !international else { throw .misplacedPlus }
                international = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("),
                UInt8(ascii: ")"), UInt8(ascii: "/"), UInt8(ascii: "\t"):
                continue
            default:
                throw .invalidCharacter
            }
        }
        guard !digits.isEmpty else { throw .empty }
        if !international, digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "0") {
            digits.removeFirst(2)
            international = true
        }
        if !international {
            guard let region = defaultRegion else { throw .nationalWithoutDefaultCountry }
            guard let code = CallingCodes.codeByRegion[region] else { throw .unknownDefaultCountry(region) }
            if let trunk = CallingCodes.trunkPrefix(for: region), digits.first == trunk,
                !(code == 1 && digits.count == 10)
            {
                digits.removeFirst()
            }
            digits.insert(contentsOf: Array(String(code).utf8), at: 0)
        }
        return try parseDigits(&digits)
    }

    /// Reads a calling code off the front of `digits` and checks the rest.
    static func parseDigits(_ digits: inout [UInt8]) throws(PhoneNumberError) -> PhoneNumber {
        guard digits.count <= 15 else { throw .tooLong(digits.count) }
        guard digits.first != UInt8(ascii: "0") else { throw .unknownCallingCode }
        var code = 0
        var codeLength = 0
        var region: String?
        for length in 1...3 where length < digits.count {
            code = code * 10 + Int(digits[length - 1] - UInt8(ascii: "0"))
            if let found = CallingCodes.regionByCode[code] {
                region = found
                codeLength = length
                break
            }
        }
        guard var region else { throw .unknownCallingCode }
        let national = digits[codeLength...]
        if code == 1 {
            guard national.count == 10 else { throw .wrongLength(region: "NANP", found: national.count, expected: 10...10) }
            let area = national.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            let n = Array(national)
            guard n[0] >= UInt8(ascii: "2"), n[3] >= UInt8(ascii: "2") else { throw .invalidNANP }
            region = NANP.region(areaCode: area)
        } else if code == 7, let next = national.first, next == UInt8(ascii: "6") || next == UInt8(ascii: "7") {
            region = "KZ"
        }
        if let expected = CallingCodes.nationalLengths[region] {
            guard expected.contains(national.count) else {
                throw .wrongLength(region: region, found: national.count, expected: expected)
            }
        } else if national.count < 4 {
            throw .wrongLength(region: region, found: national.count, expected: 4...(15 - codeLength))
        }
        var value: UInt64 = 0
        for digit in digits { value = value * 10 + UInt64(digit - UInt8(ascii: "0")) }
        return PhoneNumber(digits: value, region: region)
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
