/// A template body compiled once into literal runs and placeholder slots, so that
/// rendering a row is a sequence of byte copies and never re-parses the text.
public struct TemplateBody: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case placeholder(String)
        /// A placeholder inside a JSON string: its value is JSON-escaped when rendered.
        case jsonPlaceholder(String)
    }

    public let segments: [Segment]

    /// Placeholder names in order of first appearance.
    public var placeholders: [String] {
        var seen = Set<String>()
        return segments.compactMap {
            switch $0 {
            case .placeholder(let name), .jsonPlaceholder(let name): return seen.insert(name).inserted ? name : nil
            case .literal: return nil
            }
        }
    }

    /// Segments built elsewhere (a JSON document with placeholders in its strings).
    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// Parses `Hi <name>` style text. `\<` is a literal `<`, `\\` a literal backslash.
    /// A `<` that does not open a well-formed `<identifier>` is an error, so a typo
    /// never reaches a recipient as raw template syntax. `field` names the text in errors.
    public init(parsing text: String, field: String = "body") throws(TemplateError) {
        var segments: [Segment] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count,
                bytes[index + 1] == UInt8(ascii: "<") || bytes[index + 1] == UInt8(ascii: "\\")
            {
                literal.append(bytes[index + 1])
                index += 2
                continue
            }
            guard byte == UInt8(ascii: "<") else {
                literal.append(byte)
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count, Self.isNameByte(bytes[end]) { end += 1 }
            let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            guard end < bytes.count, bytes[end] == UInt8(ascii: ">"), !name.isEmpty,
                !(bytes[index + 1] >= UInt8(ascii: "0") && bytes[index + 1] <= UInt8(ascii: "9"))
            else {
                let column = String(decoding: bytes[..<index], as: UTF8.self).count + 1
                throw .malformedPlaceholder(column: column, field: field)
            }
            if !literal.isEmpty {
                segments.append(.literal(literal))
                literal = []
            }
            segments.append(.placeholder(name))
            index = end + 1
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.segments = segments
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
