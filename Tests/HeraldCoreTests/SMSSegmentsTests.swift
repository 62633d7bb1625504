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
