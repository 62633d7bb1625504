/// A template body compiled once into literal runs and placeholder slots, so that
/// rendering a row is a sequence of byte copies and never re-parses the text.
///
/// The syntax: `<name>` is a variable's value; `<name?text>` is `text` shown only when
/// `name` is true (a boolean) or not empty (any other type), and `<!name?text>` the text
/// shown otherwise. A condition's text may hold placeholders and further conditions (at most
/// `maximumNesting` deep). `\<` is a literal `<`, `\\` a backslash, and inside a condition's
/// text `\>` a literal `>` (a bare `>` closes the condition).
public struct TemplateBody: Sendable, Equatable {
    public indirect enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case placeholder(String)
        /// A placeholder inside a JSON string: its value is JSON-escaped when rendered.
        case jsonPlaceholder(String)
        /// Segments rendered only when the variable is true or not empty (or, negated,
        /// when it is false or empty).
        case conditional(String, negated: Bool, [Segment])
    }

    /// How deep conditions may nest.
    public static let maximumNesting = 4

    public let segments: [Segment]

    /// Variable names the body reads, placeholders and conditions alike, in order of
    /// first appearance.
    public var placeholders: [String] {
        var seen = Set<String>()
        var names: [String] = []
        func visit(_ segments: [Segment]) {
            for segment in segments {
                switch segment {
                case .placeholder(let name), .jsonPlaceholder(let name):
                    if seen.insert(name).inserted { names.append(name) }
                case .conditional(let name, _, let inner):
                    if seen.insert(name).inserted { names.append(name) }
                    visit(inner)
                case .literal: break
                }
            }
        }
        visit(segments)
        return names
    }

    /// Segments built elsewhere (a JSON document with placeholders in its strings).
    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// Parses `Hi <name><vip? (gold)>` style text (see the type's documentation).
    /// A `<` that does not open a well-formed `<identifier>` or `<identifier?`, and a
    /// condition never closed, are errors, so a typo never reaches a recipient as raw
    /// template syntax. `field` names the text in errors.
    public init(parsing text: String, field: String = "body") throws(TemplateError) {
        var parser = Parser(bytes: Array(text.utf8), field: field)
        segments = try parser.parse(depth: 0, opened: 0)
    }

    private struct Parser {
        let bytes: [UInt8]
        let field: String
        var index = 0

        init(bytes: [UInt8], field: String) {
            self.bytes = bytes
            self.field = field
        }

        /// Segments up to the end of the text (depth 0) or the `>` closing the condition
        /// opened at byte `opened`, which it consumes.
        mutating func parse(depth: Int, opened: Int) throws(TemplateError) -> [Segment] {
            var segments: [Segment] = []
            var literal: [UInt8] = []
            func flush() {
                if !literal.isEmpty {
                    segments.append(.literal(literal))
                    literal = []
                }
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count,
                    bytes[index + 1] == UInt8(ascii: "<") || bytes[index + 1] == UInt8(ascii: "\\")
                        || (depth > 0 && bytes[index + 1] == UInt8(ascii: ">"))
                {
                    literal.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if depth > 0, byte == UInt8(ascii: ">") {
                    index += 1
                    flush()
                    return segments
                }
                guard byte == UInt8(ascii: "<") else {
                    literal.append(byte)
                    index += 1
                    continue
                }
                let open = index
                var start = index + 1
                let negated = start < bytes.count && bytes[start] == UInt8(ascii: "!")
                if negated { start += 1 }
                var end = start
                while end < bytes.count, TemplateBody.isNameByte(bytes[end]) { end += 1 }
                guard end < bytes.count, end > start,
                    !(bytes[start] >= UInt8(ascii: "0") && bytes[start] <= UInt8(ascii: "9")),
                    bytes[end] == UInt8(ascii: "?") || (bytes[end] == UInt8(ascii: ">") && !negated)
                else {
                    throw .malformedPlaceholder(column: column(open), field: field)
                }
                let name = String(decoding: bytes[start..<end], as: UTF8.self)
                flush()
                index = end + 1
                if bytes[end] == UInt8(ascii: ">") {
                    segments.append(.placeholder(name))
                    continue
                }
                guard depth < TemplateBody.maximumNesting else {
                    throw .conditionTooDeep(column: column(open), field: field)
                }
                let inner = try parse(depth: depth + 1, opened: open)
                segments.append(.conditional(name, negated: negated, inner))
            }
            if depth > 0 { throw .unclosedCondition(column: column(opened), field: field) }
            flush()
            return segments
        }

        /// The 1-based character column of byte `offset`.
        func column(_ offset: Int) -> Int {
            String(decoding: bytes[..<offset], as: UTF8.self).count + 1
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
