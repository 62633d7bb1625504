/// What a provider never splits across two parts of a concatenated SMS.
public enum SMSPacking: Sendable, Hashable {
    /// A code point (its septets, or a surrogate pair): AWS and the 3GPP rule.
    case codePoints
    /// A grapheme cluster (a flag, a ZWJ emoji, a letter and its combining marks), as
    /// Twilio bills: its segment calculator packs graphemes, and a grapheme of more than one
    /// code point (even `\r\n`) makes the message UCS-2.
    case graphemes
}

/// The encoding of an SMS body and how many parts it is sent in.
///
/// GSM-7: 160 septets in one part, 153 per part of a concatenated message; the
/// extension characters `^ { } \ [ ~ ] | €` and form feed take two septets and are
/// never split across parts. UCS-2: 70 UTF-16 code units in one part, 67 per part;
/// a surrogate pair is never split (nor, with `.graphemes`, a grapheme cluster).
public struct SMSSegments: Sendable, Equatable {
    public let encoding: SMSEncoding
    public let parts: Int
    /// Septets (GSM-7) or UTF-16 code units (UCS-2) in the whole body.
    public let units: Int

    public init(encoding: SMSEncoding, parts: Int, units: Int) {
        self.encoding = encoding
        self.parts = parts
        self.units = units
    }

    public init(body: String) {
        var body = body
        self = body.withUTF8 { SMSSegments(utf8: $0) }
    }

    public init(body: String, packing: SMSPacking) {
        var body = body
        self = body.withUTF8 { SMSSegments(utf8: $0, packing: packing) }
    }

    /// Counts parts straight from UTF-8 bytes, the form bodies are rendered in.
    public init(utf8: UnsafeBufferPointer<UInt8>, packing: SMSPacking) {
        switch packing {
        case .codePoints: self.init(utf8: utf8)
        case .graphemes: self = Self.graphemeParts(String(decoding: utf8, as: UTF8.self))
        }
    }

    /// Packs whole grapheme clusters, as Twilio's segment calculator does: GSM-7 only when
    /// every cluster is one GSM character; a cluster bigger than a part takes a part alone.
    static func graphemeParts(_ body: String) -> SMSSegments {
        let gsm = body.allSatisfy { character in
            character.unicodeScalars.count == 1 && character.unicodeScalars.first.map { GSMAlphabet.cost(of: $0) > 0 } == true
        }
        let costs = body.map { character in
            gsm ? character.unicodeScalars.first.map { GSMAlphabet.cost(of: $0) } ?? 0 : character.utf16.count
        }
        let units = costs.reduce(0, +)
        let (single, capacity) = gsm ? (160, 153) : (70, 67)
        let encoding: SMSEncoding = gsm ? .gsm7 : .ucs2
        guard units > single else { return SMSSegments(encoding: encoding, parts: 1, units: units) }
        var parts = 1
        var used = 0
        for cost in costs {
            if used > 0, used + cost > capacity {
                parts += 1
                used = 0
            }
            used += cost
        }
        return SMSSegments(encoding: encoding, parts: parts, units: units)
    }

    /// Counts parts straight from UTF-8 bytes, the form bodies are rendered in.
    public init(utf8: UnsafeBufferPointer<UInt8>) {
        if let septetParts = Self.gsmParts(utf8) {
            self = septetParts
        } else {
            self = Self.ucs2Parts(utf8)
        }
    }

    private static func gsmParts(_ utf8: UnsafeBufferPointer<UInt8>) -> SMSSegments? {
        var septets = 0
        var index = 0
        let costs = GSMAlphabet.asciiCost
        while index < utf8.count {
            let byte = utf8[index]
            let cost: Int
            if byte < 0x80 {
                cost = Int(costs[Int(byte)])
                index += 1
            } else {
                let (scalar, length) = decodeScalar(utf8, at: index)
                index += length
                cost = GSMAlphabet.cost(of: scalar)
            }
            if cost == 0 { return nil }
            septets += cost
        }
        if septets <= 160 { return SMSSegments(encoding: .gsm7, parts: 1, units: septets) }
        return SMSSegments(encoding: .gsm7, parts: packedParts(utf8, capacity: 153, gsm: true), units: septets)
    }

    private static func ucs2Parts(_ utf8: UnsafeBufferPointer<UInt8>) -> SMSSegments {
        var units = 0
        var index = 0
        while index < utf8.count {
            let (scalar, length) = decodeScalar(utf8, at: index)
            index += length
            units += scalar.value > 0xFFFF ? 2 : 1
        }
        if units <= 70 { return SMSSegments(encoding: .ucs2, parts: 1, units: units) }
        return SMSSegments(encoding: .ucs2, parts: packedParts(utf8, capacity: 67, gsm: false), units: units)
    }

    /// Fills parts greedily, never splitting one character's units across two parts.
    private static func packedParts(_ utf8: UnsafeBufferPointer<UInt8>, capacity: Int, gsm: Bool) -> Int {
        var parts = 1
        var used = 0
        var index = 0
        while index < utf8.count {
            let (scalar, length) = decodeScalar(utf8, at: index)
            index += length
            let cost = gsm ? GSMAlphabet.cost(of: scalar) : (scalar.value > 0xFFFF ? 2 : 1)
            if used + cost > capacity {
                parts += 1
                used = 0
            }
            used += cost
        }
        return parts
    }

    /// Decodes one scalar from valid UTF-8 (bodies are validated before rendering); a sequence cut
    /// short by the end reads as U+FFFD over what is left.
    @inline(__always)
    static func decodeScalar(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int) {
        guard let (value, length) = UTF8Scalar.decode(utf8, at: index) else { return ("\u{FFFD}", utf8.count - index) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }
}

/// The one UTF-8 decoder of the counting paths (parts, smart encoding, UCS-2 culprits): a scalar's
/// value and length from its lead byte, without validating (bodies are checked before).
enum UTF8Scalar {
    /// The scalar at `index` and its length in bytes; nil when the text ends inside it.
    @inline(__always)
    static func decode(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int)? {
        let lead = utf8[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard index + length <= utf8.count else { return nil }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length { value = value << 6 | UInt32(utf8[index + offset] & 0x3F) }
        return (value, length)
    }
}
