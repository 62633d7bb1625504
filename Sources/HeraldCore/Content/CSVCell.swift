/// A cell of a CSV file Herald writes (`report --csv`, the dashboard's download, `suppress
/// export`) from text that may have come from outside: a provider's code or detail, a
/// message reference, a reply's words.
///
/// - Control characters (ESC, CR, LF, BEL, bidi overrides...) are written as their `\uXXXX`
///   escapes (`printable`), so no cell acts on a terminal or forges a line.
/// - A cell that starts with `=`, `+`, `-` or `@` is a formula to a spreadsheet: it gets a
///   leading `'` and is quoted, as OWASP's "CSV injection" page recommends.
/// - A cell holding a comma or a quote is quoted, quotes doubled (RFC 4180).
public enum CSVCell {
    public static func append(_ text: String, to buffer: inout [UInt8]) {
        let safe = text.printable
        let bytes = safe.utf8
        let formula = bytes.first.map(Self.startsFormula) ?? false
        guard formula || bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") }) else {
            buffer.append(contentsOf: bytes)
            return
        }
        buffer.append(UInt8(ascii: "\""))
        if formula { buffer.append(UInt8(ascii: "'")) }
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { buffer.append(byte) }
            buffer.append(byte)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// The cell as text.
    public static func text(_ text: String) -> String {
        var buffer: [UInt8] = []
        append(text, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    static func startsFormula(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
    }
}
