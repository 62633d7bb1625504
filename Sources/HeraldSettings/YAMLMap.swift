import Foundation
import HeraldCore
import Yams

/// A YAML mapping read key by key, with errors that name the file, line and key,
/// and a check that no unknown key slipped in (a typo must not be ignored).
public struct YAMLMap {
    public let file: String
    public let path: String  // dotted key path of this mapping, "" at the top
    public let line: Int?
    private let entries: [(key: String, value: Node, line: Int?)]

    /// Parses a whole file whose top level must be a mapping.
    public static func load(file: String, text: String) throws(InputError) -> YAMLMap {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.describe(error, file: file)
        } catch {
            throw InputError(file: file, "not valid YAML: \(error)")
        }
        guard let node else { throw InputError(file: file, "the file is empty") }
        return try YAMLMap(node, file: file, path: "")
    }

    public init(_ node: Node, file: String, path: String) throws(InputError) {
        guard case .mapping(let mapping) = node else {
            throw InputError(file: file, line: node.mark?.line,
                             path.isEmpty ? "expected a mapping of keys to values at the top level" : "\(path): expected a mapping of keys to values")
        }
        self.file = file
        self.path = path
        self.line = node.mark?.line
        var entries: [(String, Node, Int?)] = []
        var seen = Set<String>()
        for (key, value) in mapping {
            guard let name = key.string else {
                throw InputError(file: file, line: key.mark?.line, "\(Self.join(path, "?")): keys must be strings")
            }
            guard seen.insert(name).inserted else {
                throw InputError(file: file, line: key.mark?.line, "key \"\(Self.join(path, name))\" appears twice")
            }
            entries.append((name, value, key.mark?.line))
        }
        self.entries = entries
    }

    public var keys: [String] { entries.map(\.key) }

    /// The same mapping without `keys`: a part read by one reader, the rest handed to another
    /// (a `providers:` entry's routing keys, then its provider's own).
    public func removing(_ keys: Set<String>) -> YAMLMap {
        YAMLMap(file: file, path: path, line: line, entries: entries.filter { !keys.contains($0.key) })
    }

    /// The same mapping with `key` set to the text `value`, as if written on `line`: a value
    /// one reader derives for the next (a sender pool's first identity, as its provider's sender).
    public func adding(_ key: String, _ value: String, line: Int?) -> YAMLMap {
        YAMLMap(file: file, path: path, line: self.line,
                entries: entries.filter { $0.key != key } + [(key, Node.scalar(Node.Scalar(value)), line)])
    }

    private init(file: String, path: String, line: Int?, entries: [(key: String, value: Node, line: Int?)]) {
        self.file = file
        self.path = path
        self.line = line
        self.entries = entries
    }

    public func node(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    /// The line a key is on (the mapping's own line when the key is absent).
    public func line(of key: String) -> Int? { entries.first { $0.key == key }?.line ?? line }

    public func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: line(of: key), "\(Self.join(path, key)): \(message)")
    }

    /// Fails on the first key not in `allowed`, listing the allowed ones.
    public func onlyKeys(_ allowed: [String]) throws(InputError) {
        for entry in entries where !allowed.contains(entry.key) {
            let place = path.isEmpty ? "" : " in \(path)"
            throw InputError(file: file, line: entry.line,
                             "unknown key \"\(entry.key)\"\(place) (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    public func string(_ key: String) throws(InputError) -> String? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value else { throw error(key, "expected a text value") }
        if value.null != nil && scalar.style == .plain { return nil }
        return scalar.string
    }

    public func requiredString(_ key: String) throws(InputError) -> String {
        guard let value = try string(key), !value.isEmpty else {
            throw InputError(file: file, line: line, "missing required key \"\(Self.join(path, key))\"")
        }
        return value
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(InputError) -> Int? {
        guard let value = node(key) else { return nil }
        guard let number = value.int, case .scalar = value else { throw error(key, "expected a whole number") }
        guard range.contains(number) else { throw error(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    public func double(_ key: String, in range: ClosedRange<Double>) throws(InputError) -> Double? {
        guard let value = node(key) else { return nil }
        guard let number = value.float ?? value.int.map(Double.init), case .scalar = value else {
            throw error(key, "expected a number")
        }
        guard range.contains(number) else { throw error(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    public func bool(_ key: String) throws(InputError) -> Bool? {
        guard let value = node(key) else { return nil }
        guard let flag = value.bool else { throw error(key, "expected true or false") }
        return flag
    }

    public func map(_ key: String) throws(InputError) -> YAMLMap? {
        guard let value = node(key) else { return nil }
        return try YAMLMap(value, file: file, path: Self.join(path, key))
    }

    /// A sequence of mappings (`suggestions:`, `cards:`), each named `key[index]` in errors.
    public func maps(_ key: String) throws(InputError) -> [YAMLMap]? {
        guard let value = node(key) else { return nil }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list") }
        var maps: [YAMLMap] = []
        for (index, element) in sequence.enumerated() {
            maps.append(try YAMLMap(element, file: file, path: "\(Self.join(path, key))[\(index)]"))
        }
        return maps
    }

    /// A list of texts, or one text taken as a list of one.
    public func strings(_ key: String) throws(InputError) -> [String]? {
        guard let value = node(key) else { return nil }
        if case .scalar = value, let text = try string(key) { return [text] }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list of texts") }
        return try sequence.map { (element: Node) throws(InputError) -> String in
            guard case .scalar(let scalar) = element else { throw error(key, "expected a list of texts") }
            return scalar.string
        }
    }

    public static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func describe(_ error: YamlError, file: String) -> InputError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return InputError(file: file, line: mark.line, "not valid YAML: \(problem) (column \(mark.column))")
        case .reader(let problem, _, _, _):
            return InputError(file: file, "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return InputError(file: file, "not valid YAML: duplicated keys \(duplicates.joined(separator: ", "))")
        default:
            return InputError(file: file, "not valid YAML: \(error)")
        }
    }

    // MARK: Shapes every provider's settings use

    /// A setting checked for its shape when the file loads: not empty, at most `max`
    /// characters, no control characters or surrounding spaces, only the `allowed`
    /// characters (a character-class body such as `A-Za-z0-9_-`) when given.
    public func setting(_ key: String, allowed: String?, max: Int, shape: ((String) -> Bool)? = nil,
                        example: String? = nil) throws(InputError) -> String? {
        guard let text = try string(key) else { return nil }
        let problem: String?
        if text.isEmpty {
            problem = "must not be empty"
        } else if text.count > max {
            problem = "\(text.quoted) is longer than \(max) characters"
        } else if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problem = "\(text.quoted) holds a control character (a line break?)"
        } else if text.first?.isWhitespace == true || text.last?.isWhitespace == true {
            problem = "\(text.quoted) starts or ends with a space"
        } else if let allowed, text.range(of: "^[\(allowed)]+$", options: .regularExpression) == nil {
            problem = "\(text.quoted) may hold only \(allowed)"
        } else if let shape, !shape(text) {
            problem = "\(text.quoted) is not of the form \(example ?? "expected")"
        } else {
            problem = nil
        }
        if let problem { throw error(key, problem) }
        return text
    }

    /// An http(s) URL without a trailing slash.
    public func httpURL(_ key: String) throws(InputError) -> String? {
        guard var text = try string(key) else { return nil }
        guard let url = URL(string: text), url.host != nil, url.scheme == "https" || url.scheme == "http" else {
            throw error(key, "\(text.quoted) is not an http(s) URL")
        }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// An ISO 8601 time, quoted or as a YAML timestamp.
    public func date(_ key: String) throws(InputError) -> Date? {
        if let text = try string(key) {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw error(key, "\(text.quoted) is not an ISO 8601 time such as 2026-12-01T09:00:00Z")
            }
            return date
        }
        return node(key)?.timestamp
    }

    /// A required key's absence, named with its path and what it is for.
    public func missing(_ key: String, _ what: String) -> InputError {
        InputError(file: file, line: line, "missing required key \"\(Self.join(path, key))\" (\(what))")
    }
}
