/// The GSM 03.38 default alphabet and its extension table, as septet costs.
enum GSMAlphabet {
    /// Septets per ASCII byte: 1 basic, 2 extension, 0 not in the alphabet.
    static let asciiCost: [UInt8] = (0..<128).map { UInt8(cost(of: Unicode.Scalar(UInt8($0)))) }

    /// Septets for any scalar: 1, 2 or 0 when it is not in the alphabet. A switch, not a table:
    /// it runs for every character of every body, and reads no global.
    static func cost(of scalar: Unicode.Scalar) -> Int {
        switch scalar.value {
        case 0x0A, 0x0D: 1
        case 0x0C, 0x5B...0x5E, 0x7B...0x7E: 2  // the extension table: \f [ \ ] ^ { | } ~
        case 0x60, 0x00...0x1F, 0x7F: 0
        case 0x20..<0x80: 1
        // £ ¥ è é ù ì ò Ç Ø ø Å å Æ æ ß É ¤ ¡ Ä Ö Ñ Ü § ¿ ä ö ñ ü à
        case 0xA3, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0xD8, 0xF8, 0xC5, 0xE5, 0xC6, 0xE6, 0xDF, 0xC9,
             0xA4, 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0: 1
        // Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
        case 0x394, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E: 1
        case 0x20AC: 2  // €
        default: 0
        }
    }
}
