import PropertyBased
import Testing
@testable import HeraldCore

@Suite struct SMSSegmentsTests {
    @Test(arguments: [
        ("", SMSEncoding.gsm7, 1, 0),
        (String(repeating: "a", count: 160), .gsm7, 1, 160),
        (String(repeating: "a", count: 161), .gsm7, 2, 161),
        (String(repeating: "a", count: 306), .gsm7, 2, 306),
        (String(repeating: "a", count: 307), .gsm7, 3, 307),
        (String(repeating: "€", count: 80), .gsm7, 1, 160),
        (String(repeating: "{", count: 81), .gsm7, 2, 162),
        // 152 basic septets then an extension character: it may not straddle parts 1 and 2.
        (String(repeating: "a", count: 152) + "^" + String(repeating: "a", count: 9), .gsm7, 2, 163),
        (String(repeating: "a", count: 152) + "^" + String(repeating: "a", count: 152), .gsm7, 3, 306),
        ("Ça coûte 5€ à Zürich", .ucs2, 1, 20),
        (String(repeating: "é", count: 160), .gsm7, 1, 160),
        (String(repeating: "ж", count: 70), .ucs2, 1, 70),
        (String(repeating: "ж", count: 71), .ucs2, 2, 71),
        (String(repeating: "ж", count: 134), .ucs2, 2, 134),
        (String(repeating: "ж", count: 135), .ucs2, 3, 135),
        // 66 units then an emoji (a surrogate pair) would straddle parts: it moves to
        // part 2, so 134 units take 3 parts, not 2.
        (String(repeating: "ж", count: 66) + "😀" + String(repeating: "ж", count: 66), .ucs2, 3, 134),
        (String(repeating: "😀", count: 35), .ucs2, 1, 70),
        ("Hello`", .ucs2, 1, 6),
        ("line\nbreak\r", .gsm7, 1, 11),
    ] as [(String, SMSEncoding, Int, Int)])
    func countsPartsAndUnits(body: String, encoding: SMSEncoding, parts: Int, units: Int) {
        let segments = SMSSegments(body: body)
        #expect(segments == SMSSegments(encoding: encoding, parts: parts, units: units))
    }
}

@Suite struct SMSLimitsTests {
    @Test(arguments: [
        (String(repeating: "a", count: 1530), true), (String(repeating: "a", count: 1531), false),
        (String(repeating: "{", count: 765), true), (String(repeating: "{", count: 765) + "a", false),
        (String(repeating: "ж", count: 630), true), (String(repeating: "ж", count: 631), false),
        (String(repeating: "😀", count: 315), true), (String(repeating: "😀", count: 315) + "ж", false),
    ])
    func maximaAreCheckedInUnits(body: String, accepted: Bool) {
        let segments = SMSSegments(body: body)
        let problem = SMSLimits.check(segments, characters: body.unicodeScalars.count)
        #expect((problem == nil) == accepted)
        if let problem { #expect(problem.reason == .tooLong) }
    }
}

/// Properties over random bodies from a mix of GSM basic, GSM extension, other BMP
/// characters and emoji.
@Suite struct SMSSegmentsPropertyTests {
    /// GSM 03.38's basic table and extension table as the standard prints them (row by row), against
    /// the switch the counter uses, for every scalar of the Basic Multilingual Plane and a few beyond.
    @Test func theAlphabetMatchesGSM0338ForEveryScalar() {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        let extended = "\u{0C}^{}\\[~]|€"
        #expect(basic.unicodeScalars.count == 127)  // 128 less the escape
        for value in UInt32(0)..<0x1_0000 + 0x100 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let expected = basic.unicodeScalars.contains(scalar) ? 1 : extended.unicodeScalars.contains(scalar) ? 2 : 0
            #expect(GSMAlphabet.cost(of: scalar) == expected, "U+\(String(value, radix: 16))")
        }
    }

    static let gsmBasic: [Character] = Array("abcXYZ019 @£$¥èé\nΔ_!?.,;:'\"()")
    static let gsmExtension: [Character] = Array("^{}\\[~]|€")
    static let other: [Character] = Array("жçßΩ中ü").filter { GSMAlphabet.cost(of: $0.unicodeScalars.first!) == 0 } + ["😀", "🎉"]

    @Test func gsmBodiesUse153SeptetPartsWithoutSplittingEscapes() async {
        let characters = Gen<Character?>.element(of: Self.gsmBasic + Self.gsmExtension).map { $0! }
        await propertyCheck(input: characters.array(of: 0...700)) { chars in
            let body = String(chars)
            let segments = SMSSegments(body: body)
            #expect(segments.encoding == .gsm7)
            let septets = chars.reduce(0) { $0 + (Self.gsmExtension.contains($1) ? 2 : 1) }
            #expect(segments.units == septets)
            if septets <= 160 {
                #expect(segments.parts == 1)
            } else {
                // Never fewer than a perfect packing, never more than one wasted septet per part.
                #expect(segments.parts >= (septets + 152) / 153)
                #expect(segments.parts <= (septets + 151) / 152)
            }
        }
    }

    @Test func anyNonGSMCharacterMakesItUCS2With67UnitParts() async {
        let characters = Gen<Character?>.element(of: Self.gsmBasic + Self.other).map { $0! }
        await propertyCheck(input: characters.array(of: 1...300), Gen<Character?>.element(of: Self.other).map { $0! }) { chars, extra in
            let body = String(chars) + String(extra)
            let segments = SMSSegments(body: body)
            #expect(segments.encoding == .ucs2)
            #expect(segments.units == body.utf16.count)
            if segments.units <= 70 {
                #expect(segments.parts == 1)
            } else {
                #expect(segments.parts >= (segments.units + 66) / 67)
                #expect(segments.parts <= (segments.units + 65) / 66)
            }
        }
    }

    @Test func appendingNeverLowersThePartCount() async {
        let characters = Gen<Character?>.element(of: Self.gsmBasic + Self.gsmExtension + Self.other).map { $0! }
        await propertyCheck(input: characters.array(of: 0...400), characters) { chars, extra in
            let body = String(chars)
            #expect(SMSSegments(body: body + String(extra)).parts >= SMSSegments(body: body).parts)
        }
    }
}
