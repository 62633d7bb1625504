import Foundation
import Yams

/// A YAML mapping read key by key, with errors that name the file, line and key,
/// and a check that no unknown key slipped in (a typo must not be ignored).
struct YAMLMap {
    let file: String
    let path: String  // dotted key path of this mapping, "" at the top
    let line: Int?
    private let entries: [(key: String, value: Node, line: Int?)]

    /// Parses a whole file whose top level must be a mapping.
    static func load(file: String, text: String) throws(InputError) -> YAMLMap {
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

    init(_ node: Node, file: String, path: String) throws(InputError) {
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

    var keys: [String] { entries.map(\.key) }

    func node(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    /// The line a key is on (the mapping's own line when the key is absent).
    func line(of key: String) -> Int? { entries.first { $0.key == key }?.line ?? line }

    func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: line(of: key), "\(Self.join(path, key)): \(message)")
    }

    /// Fails on the first key not in `allowed`, listing the allowed ones.
    func onlyKeys(_ allowed: [String]) throws(InputError) {
        for entry in entries where !allowed.contains(entry.key) {
            let place = path.isEmpty ? "" : " in \(path)"
            throw InputError(file: file, line: entry.line,
                             "unknown key \"\(entry.key)\"\(place) (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    func string(_ key: String) throws(InputError) -> String? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value else { throw error(key, "expected a text value") }
        if value.null != nil && scalar.style == .plain { return nil }
        return scalar.string
    }

    func requiredString(_ key: String) throws(InputError) -> String {
        guard let value = try string(key), !value.isEmpty else {
            throw InputError(file: file, line: line, "missing required key \"\(Self.join(path, key))\"")
        }
        return value
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(InputError) -> Int? {
        guard let value = node(key) else { return nil }
        guard let number = value.int, case .scalar = value else { throw error(key, "expected a whole number") }
        guard range.contains(number) else { throw error(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws(InputError) -> Double? {
        guard let value = node(key) else { return nil }
        guard let number = value.float ?? value.int.map(Double.init), case .scalar = value else {
            throw error(key, "expected a number")
        }
        guard range.contains(number) else { throw error(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func bool(_ key: String) throws(InputError) -> Bool? {
        guard let value = node(key) else { return nil }
        guard let flag = value.bool else { throw error(key, "expected true or false") }
        return flag
    }

    func map(_ key: String) throws(InputError) -> YAMLMap? {
        guard let value = node(key) else { return nil }
        return try YAMLMap(value, file: file, path: Self.join(path, key))
    }

    /// A sequence of mappings (`suggestions:`, `cards:`), each named `key[index]` in errors.
    func maps(_ key: String) throws(InputError) -> [YAMLMap]? {
        guard let value = node(key) else { return nil }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list") }
        var maps: [YAMLMap] = []
        for (index, element) in sequence.enumerated() {
            maps.append(try YAMLMap(element, file: file, path: "\(Self.join(path, key))[\(index)]"))
        }
        return maps
    }

    /// A list of texts, or one text taken as a list of one.
    func strings(_ key: String) throws(InputError) -> [String]? {
        guard let value = node(key) else { return nil }
        if case .scalar = value, let text = try string(key) { return [text] }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list of texts") }
        return try sequence.map { (element: Node) throws(InputError) -> String in
            guard case .scalar(let scalar) = element else { throw error(key, "expected a list of texts") }
            return scalar.string
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

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
}
