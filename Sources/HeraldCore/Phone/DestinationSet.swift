/// A set of E.164 numbers (as their digits) for finding duplicates in a recipient
/// list: open addressing with linear probing and a multiplicative hash, 8 bytes a
/// slot. Much faster than `Set<UInt64>` with its seeded SipHash, and the numbers
/// are not attacker-chosen keys.
public struct DestinationSet: Sendable {
    private var slots: [UInt64]
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// Adds a number; false when it was already there. Zero is never a valid number.
    @discardableResult
    public mutating func insert(_ digits: UInt64) -> Bool {
        precondition(digits != 0, "0 is not a phone number")
        if (count + 1) * 10 > slots.count * 7 { grow() }
        var index = Self.hash(digits) & mask
        while true {
            let found = slots[index]
            if found == digits { return false }
            if found == 0 {
                slots[index] = digits
                count += 1
                return true
            }
            index = (index + 1) & mask
        }
    }

    public func contains(_ digits: UInt64) -> Bool {
        var index = Self.hash(digits) & mask
        while true {
            let found = slots[index]
            if found == digits { return true }
            if found == 0 { return false }
            index = (index + 1) & mask
        }
    }

    private static func hash(_ digits: UInt64) -> Int {
        Int(truncatingIfNeeded: (digits &* 0x9E37_79B9_7F4A_7C15) >> 17)
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for digits in old where digits != 0 { insert(digits) }
    }
}
