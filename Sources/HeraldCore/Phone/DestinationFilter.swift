/// A Bloom filter over E.164 numbers: answers "certainly new" or "maybe seen before"
/// in fixed memory, whatever the size of the list. Import uses it to find the few
/// rows that may repeat an earlier number, so that only those are looked up exactly.
public struct DestinationFilter: Sendable {
    private var words: [UInt64]
    private let mask: UInt64

    /// Sized for `expected` numbers at about 10 bits each (under 1% false positives),
    /// between 64 KiB and `maxBytes`.
    public init(expected: Int, maxBytes: Int = 4 << 20) {
        var bits: UInt64 = 1 << 19
        while bits < UInt64(max(expected, 1)) * 10, bits < UInt64(maxBytes) * 8 { bits <<= 1 }
        words = [UInt64](repeating: 0, count: Int(bits / 64))
        mask = bits - 1
    }

    /// Adds a number; true when it may have been added before (a repeat, or rarely a
    /// false positive), false when it certainly was not.
    public mutating func insert(_ digits: UInt64) -> Bool {
        let (word, bits) = Self.locate(digits, mask)
        let seen = words[word] & bits == bits
        words[word] |= bits
        return seen
    }

    /// Whether the number may have been added (false: it certainly was not).
    public func mayContain(_ digits: UInt64) -> Bool {
        let (word, bits) = Self.locate(digits, mask)
        return words[word] & bits == bits
    }

    /// A blocked filter: a number's three bits lie in one 64-bit word, so a look-up
    /// touches one cache line (over a SplitMix64 mix of the digits).
    @inline(__always)
    private static func locate(_ digits: UInt64, _ mask: UInt64) -> (word: Int, bits: UInt64) {
        var hash = digits &+ 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        let bits = (UInt64(1) << (hash & 63)) | (UInt64(1) << ((hash >> 6) & 63)) | (UInt64(1) << ((hash >> 12) & 63))
        return (Int(((hash >> 18) & mask) >> 6), bits)
    }
}
