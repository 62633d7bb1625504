/// The GSM 03.38 default alphabet and its extension table, as septet costs.
enum GSMAlphabet {
    /// Non-ASCII characters of the basic table.
    private static let basicNonASCII: Set<UInt32> = Set(
        "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà".unicodeScalars.map(\.value))
    /// Characters of the extension table: each is sent as escape + character.
    private static let extensionASCII: Set<UInt8> = Set("^{}\\[~]|".utf8).union([0x0C])

    /// Septets per ASCII byte: 1 basic, 2 extension, 0 not in the alphabet.
    static let asciiCost: [UInt8] = (0..<128).map { byte -> UInt8 in
        let value = UInt8(byte)
        if extensionASCII.contains(value) { return 2 }
        if value == 0x0A || value == 0x0D { return 1 }
        if value < 0x20 || value == 0x7F || value == UInt8(ascii: "`") { return 0 }
        return 1
    }

    /// Septets for any scalar: 1, 2 or 0 when it is not in the alphabet.
    static func cost(of scalar: Unicode.Scalar) -> Int {
        if scalar.value < 0x80 { return Int(asciiCost[Int(scalar.value)]) }
        if scalar == "€" { return 2 }
        return basicNonASCII.contains(scalar.value) ? 1 : 0
    }
}
