import Foundation

/// Smart encoding: characters that force a whole SMS into UCS-2 (70 characters a part instead of
/// 160), replaced with GSM-7 look-alikes, as Twilio's Smart Encoding does. The table covers every
/// entry of Twilio's published list (twilio.com/docs/messaging/services/smart-encoding-char-list)
/// whose replacement is GSM-7, except control characters, which Herald refuses in a CSV field
/// anyway; U+2039 and U+203A keep their direction (Twilio swaps them). `docs/smart-encoding.md`
/// publishes it, and a test holds the two to each other.
public enum SmartEncoding {
    /// Code point and its replacement, in code point order.
    public static let table: [(codePoint: UInt32, replacement: String)] = [
        (0x0009, "       "),  // character tabulation
        (0x0060, "'"),  // grave accent
        (0x00A0, " "),  // no-break space
        (0x00AB, "\""),  // left-pointing double angle quotation mark
        (0x00B4, "'"),  // acute accent
        (0x00BB, "\""),  // right-pointing double angle quotation mark
        (0x00BC, "1/4"),  // vulgar fraction one quarter
        (0x00BD, "1/2"),  // vulgar fraction one half
        (0x00BE, "3/4"),  // vulgar fraction three quarters
        (0x00F7, "/"),  // division sign
        (0x01C3, "!"),  // latin letter retroflex click
        (0x0262, "G"),  // latin letter small capital g
        (0x026A, "I"),  // latin letter small capital i
        (0x0274, "N"),  // latin letter small capital n
        (0x0280, "R"),  // latin letter small capital r
        (0x028F, "Y"),  // latin letter small capital y
        (0x0299, "B"),  // latin letter small capital b
        (0x029C, "H"),  // latin letter small capital h
        (0x029F, "L"),  // latin letter small capital l
        (0x02B9, "'"),  // modifier letter prime
        (0x02BA, "\""),  // modifier letter double prime
        (0x02BB, "'"),  // modifier letter turned comma
        (0x02BC, "'"),  // modifier letter apostrophe
        (0x02BD, "'"),  // modifier letter reversed comma
        (0x02C6, "^"),  // modifier letter circumflex accent
        (0x02C8, "'"),  // modifier letter vertical line
        (0x02CA, "'"),  // modifier letter acute accent
        (0x02CB, "'"),  // modifier letter grave accent
        (0x02D0, ":"),  // modifier letter triangular colon
        (0x02D6, "+"),  // modifier letter plus sign
        (0x02DC, "~"),  // small tilde
        (0x02EE, "\""),  // modifier letter double apostrophe
        (0x02F7, "~"),  // modifier letter low tilde
        (0x02F8, ":"),  // modifier letter raised colon
        (0x0302, "^"),  // combining circumflex accent
        (0x0303, "~"),  // combining tilde
        (0x0313, "'"),  // combining comma above
        (0x0314, "'"),  // combining reversed comma above
        (0x0326, ","),  // combining comma below
        (0x0330, "~"),  // combining tilde below
        (0x0332, "_"),  // combining low line
        (0x0334, "~"),  // combining tilde overlay
        (0x0337, "/"),  // combining short solidus overlay
        (0x0338, "/"),  // combining long solidus overlay
        (0x0347, "="),  // combining equals sign below
        (0x1D00, "A"),  // latin letter small capital a
        (0x1D04, "C"),  // latin letter small capital c
        (0x1D05, "D"),  // latin letter small capital d
        (0x1D07, "E"),  // latin letter small capital e
        (0x1D0A, "J"),  // latin letter small capital j
        (0x1D0B, "K"),  // latin letter small capital k
        (0x1D0D, "M"),  // latin letter small capital m
        (0x1D0F, "O"),  // latin letter small capital o
        (0x1D18, "P"),  // latin letter small capital p
        (0x1D1B, "T"),  // latin letter small capital t
        (0x1D1C, "U"),  // latin letter small capital u
        (0x1D20, "V"),  // latin letter small capital v
        (0x1D21, "W"),  // latin letter small capital w
        (0x1D22, "Z"),  // latin letter small capital z
        (0x1DCD, "^"),  // combining double circumflex above
        (0x2000, " "),  // en quad
        (0x2001, " "),  // em quad
        (0x2002, " "),  // en space
        (0x2003, " "),  // em space
        (0x2004, " "),  // three-per-em space
        (0x2005, " "),  // four-per-em space
        (0x2006, " "),  // six-per-em space
        (0x2007, " "),  // figure space
        (0x2008, " "),  // punctuation space
        (0x2009, " "),  // thin space
        (0x200A, " "),  // hair space
        (0x200B, ""),  // zero width space
        (0x2010, "-"),  // hyphen
        (0x2013, "-"),  // en dash
        (0x2014, "-"),  // em dash
        (0x2015, "-"),  // horizontal bar
        (0x2017, "'"),  // double low line
        (0x2018, "'"),  // left single quotation mark
        (0x2019, "'"),  // right single quotation mark
        (0x201A, ","),  // single low-9 quotation mark
        (0x201B, "'"),  // single high-reversed-9 quotation mark
        (0x201C, "\""),  // left double quotation mark
        (0x201D, "\""),  // right double quotation mark
        (0x201E, "\""),  // double low-9 quotation mark
        (0x201F, "\""),  // double high-reversed-9 quotation mark
        (0x2022, "-"),  // bullet
        (0x2026, "..."),  // horizontal ellipsis
        (0x2028, " "),  // line separator
        (0x2029, " "),  // paragraph separator
        (0x202F, " "),  // narrow no-break space
        (0x2039, "<"),  // single left-pointing angle quotation mark
        (0x203A, ">"),  // single right-pointing angle quotation mark
        (0x203C, "!!"),  // double exclamation mark
        (0x2043, "-"),  // hyphen bullet
        (0x2044, "/"),  // fraction slash
        (0x204E, "*"),  // low asterisk
        (0x204F, ";"),  // reversed semicolon
        (0x205F, " "),  // medium mathematical space
        (0x2060, ""),  // word joiner
        (0x20D2, "|"),  // combining long vertical line overlay
        (0x20D3, "|"),  // combining short vertical line overlay
        (0x20E5, "\\"),  // combining reverse solidus overlay
        (0x2215, "/"),  // division slash
        (0x2217, "*"),  // asterisk operator
        (0x2223, "|"),  // divides
        (0x223C, "~"),  // tilde operator
        (0x229B, "*"),  // circled asterisk operator
        (0x239C, "|"),  // left parenthesis extension
        (0x239F, "|"),  // right parenthesis extension
        (0x23B8, "|"),  // left vertical box line
        (0x23B9, "|"),  // right vertical box line
        (0x23BC, "-"),  // horizontal scan line-7
        (0x23BD, "-"),  // horizontal scan line-9
        (0x23D0, "|"),  // vertical line extension
        (0x2722, "*"),  // four teardrop-spoked asterisk
        (0x2723, "*"),  // four balloon-spoked asterisk
        (0x2724, "*"),  // heavy four balloon-spoked asterisk
        (0x2725, "*"),  // four club-spoked asterisk
        (0x2731, "*"),  // heavy asterisk
        (0x2732, "*"),  // open centre asterisk
        (0x2733, "*"),  // eight spoked asterisk
        (0x273A, "*"),  // sixteen pointed asterisk
        (0x273B, "*"),  // teardrop-spoked asterisk
        (0x273C, "*"),  // open centre teardrop-spoked asterisk
        (0x273D, "*"),  // heavy teardrop-spoked asterisk
        (0x2743, "*"),  // heavy teardrop-spoked pinwheel asterisk
        (0x2749, "*"),  // balloon-spoked asterisk
        (0x274A, "*"),  // eight teardrop-spoked propeller asterisk
        (0x274B, "*"),  // heavy eight teardrop-spoked propeller asterisk
        (0x275B, "'"),  // heavy single turned comma quotation mark ornament
        (0x275C, "'"),  // heavy single comma quotation mark ornament
        (0x275D, "\""),  // heavy double turned comma quotation mark ornament
        (0x275E, "\""),  // heavy double comma quotation mark ornament
        (0x2768, "("),  // medium left parenthesis ornament
        (0x2769, ")"),  // medium right parenthesis ornament
        (0x276A, "("),  // medium flattened left parenthesis ornament
        (0x276B, ")"),  // medium flattened right parenthesis ornament
        (0x2774, "{"),  // medium left curly bracket ornament
        (0x2775, "}"),  // medium right curly bracket ornament
        (0x27EE, "("),  // mathematical left flattened parenthesis
        (0x27EF, ")"),  // mathematical right flattened parenthesis
        (0x2982, ":"),  // z notation type colon
        (0x2985, "("),  // left white parenthesis
        (0x2986, ")"),  // right white parenthesis
        (0x29C6, "*"),  // squared asterisk
        (0x29F5, "\\"),  // reverse solidus operator
        (0x29F8, "/"),  // big solidus
        (0x29F9, "\\"),  // big reverse solidus
        (0x3000, " "),  // ideographic space
        (0x3001, ","),  // ideographic comma
        (0x3002, "."),  // ideographic full stop
        (0x301D, "\""),  // reversed double prime quotation mark
        (0x301E, "\""),  // double prime quotation mark
        (0xA730, "F"),  // latin letter small capital f
        (0xA731, "S"),  // latin letter small capital s
        (0xA789, ":"),  // modifier letter colon
        (0xA78A, "="),  // modifier letter short equals sign
        (0xFE10, "'"),  // presentation form for vertical comma
        (0xFE11, "'"),  // presentation form for vertical ideographic comma
        (0xFE13, ":"),  // presentation form for vertical colon
        (0xFE14, ";"),  // presentation form for vertical semicolon
        (0xFE15, "!"),  // presentation form for vertical exclamation mark
        (0xFE16, "?"),  // presentation form for vertical question mark
        (0xFE50, ","),  // small comma
        (0xFE51, ","),  // small ideographic comma
        (0xFE52, "."),  // small full stop
        (0xFE54, ";"),  // small semicolon
        (0xFE56, "?"),  // small question mark
        (0xFE57, "!"),  // small exclamation mark
        (0xFE59, "("),  // small left parenthesis
        (0xFE5A, ")"),  // small right parenthesis
        (0xFE5B, "{"),  // small left curly bracket
        (0xFE5C, "}"),  // small right curly bracket
        (0xFE5F, "#"),  // small number sign
        (0xFE60, "&"),  // small ampersand
        (0xFE61, "*"),  // small asterisk
        (0xFE62, "+"),  // small plus sign
        (0xFE63, "-"),  // small hyphen-minus
        (0xFE64, "<"),  // small less-than sign
        (0xFE65, ">"),  // small greater-than sign
        (0xFE66, "="),  // small equals sign
        (0xFE68, "\\"),  // small reverse solidus
        (0xFE69, "$"),  // small dollar sign
        (0xFE6A, "%"),  // small percent sign
        (0xFE6B, "@"),  // small commercial at
        (0xFEFF, ""),  // zero width no-break space
        (0xFF01, "!"),  // fullwidth exclamation mark
        (0xFF02, "\""),  // fullwidth quotation mark
        (0xFF03, "#"),  // fullwidth number sign
        (0xFF04, "$"),  // fullwidth dollar sign
        (0xFF05, "%"),  // fullwidth percent sign
        (0xFF06, "&"),  // fullwidth ampersand
        (0xFF07, "'"),  // fullwidth apostrophe
        (0xFF08, "("),  // fullwidth left parenthesis
        (0xFF09, ")"),  // fullwidth right parenthesis
        (0xFF0A, "*"),  // fullwidth asterisk
        (0xFF0B, "+"),  // fullwidth plus sign
        (0xFF0C, ","),  // fullwidth comma
        (0xFF0D, "-"),  // fullwidth hyphen-minus
        (0xFF0E, "."),  // fullwidth full stop
        (0xFF0F, "/"),  // fullwidth solidus
        (0xFF10, "0"),  // fullwidth digit zero
        (0xFF11, "1"),  // fullwidth digit one
        (0xFF12, "2"),  // fullwidth digit two
        (0xFF13, "3"),  // fullwidth digit three
        (0xFF14, "4"),  // fullwidth digit four
        (0xFF15, "5"),  // fullwidth digit five
        (0xFF16, "6"),  // fullwidth digit six
        (0xFF17, "7"),  // fullwidth digit seven
        (0xFF18, "8"),  // fullwidth digit eight
        (0xFF19, "9"),  // fullwidth digit nine
        (0xFF1A, ":"),  // fullwidth colon
        (0xFF1B, ";"),  // fullwidth semicolon
        (0xFF1C, "<"),  // fullwidth less-than sign
        (0xFF1D, "="),  // fullwidth equals sign
        (0xFF1E, ">"),  // fullwidth greater-than sign
        (0xFF1F, "?"),  // fullwidth question mark
        (0xFF20, "@"),  // fullwidth commercial at
        (0xFF21, "A"),  // fullwidth latin capital letter a
        (0xFF22, "B"),  // fullwidth latin capital letter b
        (0xFF23, "C"),  // fullwidth latin capital letter c
        (0xFF24, "D"),  // fullwidth latin capital letter d
        (0xFF25, "E"),  // fullwidth latin capital letter e
        (0xFF26, "F"),  // fullwidth latin capital letter f
        (0xFF27, "G"),  // fullwidth latin capital letter g
        (0xFF28, "H"),  // fullwidth latin capital letter h
        (0xFF29, "I"),  // fullwidth latin capital letter i
        (0xFF2A, "J"),  // fullwidth latin capital letter j
        (0xFF2B, "K"),  // fullwidth latin capital letter k
        (0xFF2C, "L"),  // fullwidth latin capital letter l
        (0xFF2D, "M"),  // fullwidth latin capital letter m
        (0xFF2E, "N"),  // fullwidth latin capital letter n
        (0xFF2F, "O"),  // fullwidth latin capital letter o
        (0xFF30, "P"),  // fullwidth latin capital letter p
        (0xFF31, "Q"),  // fullwidth latin capital letter q
        (0xFF32, "R"),  // fullwidth latin capital letter r
        (0xFF33, "S"),  // fullwidth latin capital letter s
        (0xFF34, "T"),  // fullwidth latin capital letter t
        (0xFF35, "U"),  // fullwidth latin capital letter u
        (0xFF36, "V"),  // fullwidth latin capital letter v
        (0xFF37, "W"),  // fullwidth latin capital letter w
        (0xFF38, "X"),  // fullwidth latin capital letter x
        (0xFF39, "Y"),  // fullwidth latin capital letter y
        (0xFF3A, "Z"),  // fullwidth latin capital letter z
        (0xFF3B, "["),  // fullwidth left square bracket
        (0xFF3C, "\\"),  // fullwidth reverse solidus
        (0xFF3D, "]"),  // fullwidth right square bracket
        (0xFF3E, "^"),  // fullwidth circumflex accent
        (0xFF3F, "_"),  // fullwidth low line
        (0xFF5B, "{"),  // fullwidth left curly bracket
        (0xFF5C, "|"),  // fullwidth vertical line
        (0xFF5D, "}"),  // fullwidth right curly bracket
        (0xFF5E, "~"),  // fullwidth tilde
        (0xFF61, "."),  // halfwidth ideographic full stop
        (0xFF64, ","),  // halfwidth ideographic comma
    ]

    static let map: [UInt32: [UInt8]] = Dictionary(uniqueKeysWithValues: table.map { ($0.codePoint, Array($0.replacement.utf8)) })

    /// Whether `scalar` has a replacement.
    public static func replacement(for scalar: Unicode.Scalar) -> String? {
        map[scalar.value].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The UTF-8 text with every character of the table replaced, or nil when it holds none.
    public static func apply(_ utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        return apply(utf8, into: &output) ? output : nil
    }

    /// Writes the text with every character of the table replaced into `output` (cleared first,
    /// its storage kept for the next row); false, and `output` unspecified, when it holds none.
    /// Only a tab, a grave accent or a non-ASCII byte can start one: runs of other bytes are
    /// copied whole, and only those characters are looked up.
    public static func apply(_ utf8: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        func candidate(_ byte: UInt8) -> Bool { byte >= 0x80 || byte == 0x09 || byte == 0x60 }
        guard var index = utf8.firstIndex(where: candidate) else { return false }
        let map = Self.map
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(utf8.count + 8)
        output.append(contentsOf: utf8[..<index])
        var changed = false
        while index < utf8.count {
            let byte = utf8[index]
            guard candidate(byte) else {
                var end = index + 1
                while end < utf8.count, !candidate(utf8[end]) { end += 1 }
                output.append(contentsOf: utf8[index..<end])
                index = end
                continue
            }
            guard let (value, length) = UTF8Scalar.decode(utf8, at: index) else {
                output.append(contentsOf: utf8[index...])
                break
            }
            if let replacement = map[value] {
                output.append(contentsOf: replacement)
                changed = true
            } else {
                output.append(contentsOf: utf8[index..<(index + length)])
            }
            index += length
        }
        return changed
    }
}

/// The characters that make SMS bodies UCS-2, for `validate` and `estimate`: each with the rows
/// it is in and the first few of them, and what smart encoding would put in its place.
public struct UCS2Culprits: Sendable {
    public struct Culprit: Codable, Sendable, Equatable {
        public let character: String
        public let codePoint: String
        public let name: String
        public var rows: Int
        public var exampleLines: [Int]
        /// What `smart_encoding: true` sends instead; nil when it has no look-alike.
        public let smartReplacement: String?

        enum CodingKeys: String, CodingKey {
            case character, name, rows
            case codePoint = "code_point"
            case exampleLines = "example_lines"
            case smartReplacement = "smart_replacement"
        }
    }

    private var found: [UInt32: Culprit] = [:]
    public init() {}

    /// Notes the characters of a UCS-2 body (CSV line `line`) that GSM-7 lacks, once each a row.
    public mutating func note(_ utf8: UnsafeBufferPointer<UInt8>, line: Int) {
        // Decoded by hand, ASCII passed over without a lookup; a row holds few culprits, so the
        // ones seen in it are kept on the stack (a row with more than 16 counts the first 16).
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { seen in
            var seenCount = 0
            var index = 0
            while index < utf8.count {
                guard let (value, length) = UTF8Scalar.decode(utf8, at: index) else { break }
                index += length
                guard let scalar = Unicode.Scalar(value), GSMAlphabet.cost(of: scalar) == 0,
                      seenCount < seen.count, !seen[..<seenCount].contains(value) else { continue }
                seen[seenCount] = value
                seenCount += 1
                if let slot = found.index(forKey: value) {
                    found.values[slot].rows += 1
                    if found.values[slot].exampleLines.count < 3 { found.values[slot].exampleLines.append(line) }
                } else {
                    found[value] = Culprit(character: String(scalar), codePoint: String(format: "U+%04X", value),
                                           name: scalar.properties.name?.lowercased() ?? "unnamed",
                                           rows: 1, exampleLines: [line], smartReplacement: SmartEncoding.replacement(for: scalar))
                }
            }
        }
    }

    /// Adds what another scan of other rows found (example lines kept in line order).
    public mutating func merge(_ other: UCS2Culprits) {
        for (value, theirs) in other.found {
            guard var mine = found[value] else {
                found[value] = theirs
                continue
            }
            mine.rows += theirs.rows
            mine.exampleLines = Array((mine.exampleLines + theirs.exampleLines).sorted().prefix(3))
            found[value] = mine
        }
    }

    /// The characters found, most rows first (at most `limit`).
    public func top(_ limit: Int = 10) -> [Culprit] {
        Array(found.values.sorted { ($0.rows, $1.codePoint) > ($1.rows, $0.codePoint) }.prefix(limit))
    }
}
