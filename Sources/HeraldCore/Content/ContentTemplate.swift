import Foundation

/// Compiles structured content (an RCS message, an MMS, a Notify variable map)
/// whose strings hold `<name>` placeholders into one JSON document template.
/// Rendering it is then the same byte copy as an SMS body, with each value
/// JSON-escaped, and the journal stores the rendered JSON.
public enum ContentTemplate {
    /// `root` names the content in errors (`rcs.card.title, column 4: ...`).
    public static func compile<Content: Encodable>(
        _ content: Content, root: String, declared: [String]
    ) throws(TemplateError) -> TemplateBody {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and arrays cannot fail.
        guard let data = try? encoder.encode(content), let tree = try? JSONSerialization.jsonObject(with: data) else {
            preconditionFailure("content is not encodable as JSON")
        }
        var builder = Builder(declared: declared)
        try builder.emit(tree, path: root)
        return TemplateBody(segments: builder.finish())
    }

    /// Placeholder names used in `text`, or nil when it has none (its value is fixed).
    public static func placeholders(in text: String) -> [String]? {
        guard let body = try? TemplateBody(parsing: text) else { return nil }
        let names = body.placeholders
        return names.isEmpty ? nil : names
    }

    private struct Builder {
        let declared: [String]
        var segments: [TemplateBody.Segment] = []
        var literal: [UInt8] = []

        init(declared: [String]) { self.declared = declared }

        mutating func emit(_ value: Any, path: String) throws(TemplateError) {
            if let text = value as? String {
                literal.append(UInt8(ascii: "\""))
                for segment in try inJSON(TemplateBody(parsing: text, field: path).segments, path: path) {
                    if case .literal(let bytes) = segment {
                        literal.append(contentsOf: bytes)
                    } else {
                        flush()
                        segments.append(segment)
                    }
                }
                literal.append(UInt8(ascii: "\""))
            } else if let object = value as? [String: Any] {
                literal.append(UInt8(ascii: "{"))
                for (index, key) in object.keys.sorted().enumerated() {
                    if index > 0 { literal.append(UInt8(ascii: ",")) }
                    literal.append(UInt8(ascii: "\""))
                    JSONEscape.append(Array(key.utf8), to: &literal)
                    literal.append(contentsOf: Array("\":".utf8))
                    try emit(object[key]!, path: key.hasPrefix("fallback_") ? key : "\(path).\(key)")
                }
                literal.append(UInt8(ascii: "}"))
            } else if let array = value as? [Any] {
                literal.append(UInt8(ascii: "["))
                for (index, element) in array.enumerated() {
                    if index > 0 { literal.append(UInt8(ascii: ",")) }
                    try emit(element, path: "\(path)[\(index)]")
                }
                literal.append(UInt8(ascii: "]"))
            } else if let number = value as? NSNumber {
                literal.append(contentsOf: Array(number.stringValue.utf8))
            } else {
                literal.append(contentsOf: Array("null".utf8))
            }
        }

        /// A string's segments as they go inside a JSON string: literals escaped, values
        /// escaped as they are rendered, conditions likewise inside.
        func inJSON(_ parsed: [TemplateBody.Segment], path: String) throws(TemplateError) -> [TemplateBody.Segment] {
            var result: [TemplateBody.Segment] = []
            for segment in parsed {
                switch segment {
                case .literal(let bytes):
                    var escaped: [UInt8] = []
                    JSONEscape.append(bytes, to: &escaped)
                    if case .literal(let previous)? = result.last {
                        result[result.count - 1] = .literal(previous + escaped)
                    } else {
                        result.append(.literal(escaped))
                    }
                case .placeholder(let name), .jsonPlaceholder(let name):
                    guard declared.contains(name) else { throw .unknownPlaceholder(name, declared: declared, field: path) }
                    result.append(.jsonPlaceholder(name))
                case .conditional(let name, let negated, let inner):
                    guard declared.contains(name) else { throw .unknownPlaceholder(name, declared: declared, field: path) }
                    result.append(.conditional(name, negated: negated, try inJSON(inner, path: path)))
                }
            }
            return result
        }

        mutating func flush() {
            if !literal.isEmpty {
                segments.append(.literal(literal))
                literal = []
            }
        }

        mutating func finish() -> [TemplateBody.Segment] {
            flush()
            return segments
        }
    }
}
