import Foundation
import HeraldCore
import Testing

/// Smart encoding: every replacement is GSM-7 and every replaced character is not; the parts of
/// a replaced text, counted by Herald, match an independent GSM-7 count; the published page
/// lists exactly the table.
@Suite struct SmartEncodingTests {
    /// GSM 03.38: the basic table and the extension table (two septets each), written out here
    /// apart from Herald's own alphabet.
    static let basic = Set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà".unicodeScalars)
    static let extended = Set("^{}\\[~]|€\u{0C}".unicodeScalars)

    /// Septets, or nil when a character is not GSM-7.
    static func septets(_ text: String) -> Int? {
        var count = 0
        for scalar in text.unicodeScalars {
            if basic.contains(scalar) { count += 1 } else if extended.contains(scalar) { count += 2 } else { return nil }
        }
        return count
    }

    /// Parts as GSM-7 counts them: 160 septets in one, else 153 a part, an escape never split.
    static func parts(_ text: String) -> Int? {
        guard let total = septets(text) else { return nil }
        if total <= 160 { return 1 }
        var parts = 1, used = 0
        for scalar in text.unicodeScalars {
            let size = extended.contains(scalar) ? 2 : 1
            if used + size > 153 { parts += 1; used = 0 }
            used += size
        }
        return parts
    }

    static func apply(_ text: String) -> String {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            SmartEncoding.apply(UnsafeBufferPointer(buffer)).map { String(decoding: $0, as: UTF8.self) } ?? text
        }
    }

    @Test func everyReplacementIsGSM7AndEveryReplacedCharacterIsNot() {
        #expect(SmartEncoding.table.count >= 250)
        #expect(Set(SmartEncoding.table.map(\.codePoint)).count == SmartEncoding.table.count)
        for (codePoint, replacement) in SmartEncoding.table {
            let character = String(Character(Unicode.Scalar(codePoint)!))
            #expect(Self.septets(character) == nil, "U+\(String(codePoint, radix: 16)) is GSM-7 already")
            #expect(Self.septets(replacement) != nil, "U+\(String(codePoint, radix: 16)) -> \(replacement) is not GSM-7")
            #expect(SMSSegments(body: character).encoding == .ucs2 && SMSSegments(body: replacement).encoding == .gsm7)
        }
    }

    @Test(arguments: [
        ("“Hello” — it’s 10 am…", "\"Hello\" - it's 10 am..."),
        ("½ price «today» only", "1/2 price \"today\" only"),
        ("ＡＢＣ－１２３", "ABC-123"),
        ("plain text, nothing to do", "plain text, nothing to do"),
        ("emoji 🙂 stays, ’ goes", "emoji 🙂 stays, ' goes"),
    ])
    func replacesWhatTheTableLists(_ text: String, _ expected: String) {
        #expect(Self.apply(text) == expected)
    }

    /// Random texts of ASCII, GSM-7 extras and table characters: once replaced, GSM-7, with the
    /// parts Herald counts equal to the independent count.
    @Test func partsAreCountedOnTheReplacedText() {
        var random = SplitMix64(seed: 38)
        let pieces = Array("abcXYZ 0123,.!?-é€[]^".unicodeScalars) + SmartEncoding.table.compactMap { Unicode.Scalar($0.codePoint) }
        for _ in 0..<2_000 {
            let length = Int(random.next() % 400)
            var text = ""
            for _ in 0..<length { text.unicodeScalars.append(pieces[Int(random.next() % UInt64(pieces.count))]) }
            let replaced = Self.apply(text)
            let segments = SMSSegments(body: replaced)
            #expect(segments.encoding == .gsm7, "\(replaced.debugDescription)")
            #expect(segments.parts == Self.parts(replaced), "\(replaced.debugDescription)")
        }
    }

    @Test func thePublishedPageListsExactlyTheTable() throws {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/smart-encoding.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let listed = text.split(separator: "\n").filter { $0.hasPrefix("| U+") }.compactMap { UInt32($0.dropFirst(4).prefix { $0 != " " }, radix: 16) }
        #expect(listed == SmartEncoding.table.map(\.codePoint))
    }
}
