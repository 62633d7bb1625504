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
