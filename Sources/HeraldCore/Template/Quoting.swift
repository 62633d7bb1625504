extension StringProtocol {
    /// A value as an error message quotes it: in double quotes, control characters
    /// shown as escapes (`\n`, `\u{0}`), and at most 80 characters then an ellipsis, so
    /// a binary header or a 5,000-character id never floods a terminal.
    public var quoted: String {
        var text = ""
        var count = 0
        for character in self {
            if count == 80 {
                text += "…"
                break
            }
            count += 1
            if character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                text += character.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
            } else {
                text.append(character)
            }
        }
        return "\"" + text + "\""
    }
}

extension Unicode.Scalar {
    /// Whether a terminal or a log reader would act on this scalar instead of showing it:
    /// C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional
    /// overrides and isolates that reorder what follows them.
    var controlsDisplay: Bool {
        switch value {
        case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}

extension StringProtocol {
    /// Text from outside (a provider's code or detail, a receipt, a file) made safe for one
    /// line of a terminal or a log: every scalar that would act on the display (an escape
    /// sequence, a newline that forges a line, a bidi override) shown as its `\uXXXX` escape.
    public var printable: String { escapingControls(keepingLines: false) }

    /// The same for text of several lines (herald's own output): newlines and tabs stay.
    public var printableLines: String { escapingControls(keepingLines: true) }

    private func escapingControls(keepingLines: Bool) -> String {
        func unsafe(_ scalar: Unicode.Scalar) -> Bool {
            scalar.controlsDisplay && !(keepingLines && (scalar == "\n" || scalar == "\t"))
        }
        guard unicodeScalars.contains(where: unsafe) else { return String(self) }
        var text = ""
        for scalar in unicodeScalars {
            if unsafe(scalar) {
                // \uXXXX: read the same in a terminal, and still valid inside a JSON string.
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
