import Foundation

/// `where:` in a campaign file: which rows of the CSV the campaign is for, as a typed filter
/// over the template's variables and the recipient's country:
///
///     where: country in [US, CA] and visits >= 3 and not opted_out and signed_up < 2026-01-01
///
/// Comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) and `in [...]` / `not in [...]` of a
/// variable with a value of its type, a boolean variable alone, `and`, `or`, `not` and
/// parentheses. Values: integers, `true`/`false`, dates (`2026-12-31`, compared with a string
/// variable holding ISO dates) and strings, quoted (`"Ada Lovelace"`) or bare words (`US`).
/// Checked when the campaign loads against the variables' types; errors name the column.
public struct Segment: Sendable {
    public indirect enum Node: Sendable, Equatable {
        case and([Node])
        case or([Node])
        case not(Node)
        case compare(Operand, Comparison, Value)
        case member(Operand, [Value], negated: Bool)
        /// A boolean variable alone: true when it is true.
        case truth(Operand)
    }

    public enum Comparison: String, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        /// Whether a row's value ordered `order` (-1, 0, 1) against the expression's passes; a
        /// row without a value of the type (nil) passes only `!=`.
        func holds(_ order: Int?) -> Bool {
            guard let order else { return self == .notEqual }
            switch self {
            case .equal: return order == 0
            case .notEqual: return order != 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            }
        }
    }

    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case integer(Int64)
        case boolean(Bool)
        /// Days since 1970-01-01.
        case date(Int)

        public var description: String {
            switch self {
            case .string(let text): text.quoted
            case .integer(let value): String(value)
            case .boolean(let value): String(value)
            case .date(let days): Segment.dateText(days)
            }
        }
    }

    /// What a name stands for: a template variable of a type, or the number's country.
    public struct Operand: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case variable(VariableType)
            case country
        }
        public let name: String
        public let kind: Kind
        /// Its place in `Segment.variables` (-1 for the country): a reader binds each once.
        public var slot = -1

        public init(name: String, kind: Kind, slot: Int = -1) {
            self.name = name
            self.kind = kind
            self.slot = slot
        }
    }

    /// The variables it reads, each once, in the order of their `slot`.
    public let variables: [String]
    /// The expression as written.
    public let source: String
    public let root: Node
    /// The top-level clauses (those of an `and` at the top, or the whole), each with its text:
    /// `estimate` counts the rows each one leaves out.
    public let clauses: [(node: Node, text: String)]
    /// The same filter, flattened for evaluating row after row (what the scanner runs).
    public let program: SegmentProgram

    /// The name `where:` uses for the number's country (ISO 3166 alpha-2, from the number).
    public static let countryName = "country"

    /// Parses and type-checks `source` against the template's variables.
    public init(_ source: String, variables: [VariableSpec]) throws(SegmentError) {
        var parser = Parser(source: source, variables: variables)
        let (root, clauses) = try parser.parse()
        self.variables = parser.slots
        self.source = source
        self.root = root
        self.clauses = clauses
        program = SegmentProgram(clauses: clauses.map(\.node),
                                 defaults: parser.slots.map { name in variables.first { $0.name == name }?.defaultValue })
    }

    /// The variables it reads, by name (not the country).
    public var variableNames: Set<String> {
        var names = Set<String>()
        func visit(_ node: Node) {
            switch node {
            case .and(let nodes), .or(let nodes): nodes.forEach(visit)
            case .not(let inner): visit(inner)
            case .compare(let operand, _, _), .member(let operand, _, _), .truth(let operand):
                if case .variable = operand.kind { names.insert(operand.name) }
            }
        }
        visit(root)
        return names
    }

    // MARK: Evaluation
    //
    // The tree evaluator below states the rule plainly; rows are filtered by the flat
    // `SegmentProgram` (`program`), which the property tests check against it clause by
    // clause over random filters and rows. Nothing on the send or estimate path calls it.

    /// A row's value of one operand: its cell (or default) as text; nil when empty.
    public typealias Lookup = (Operand) -> String?

    /// Whether a row is in the segment.
    public func contains(_ lookup: Lookup) -> Bool { Self.evaluate(root, lookup) }

    /// Whether the row passes each top-level clause, in order.
    public func clauseResults(_ lookup: Lookup) -> [Bool] { clauses.map { Self.evaluate($0.node, lookup) } }

    static func evaluate(_ node: Node, _ lookup: Lookup) -> Bool {
        switch node {
        case .and(let nodes): return nodes.allSatisfy { evaluate($0, lookup) }
        case .or(let nodes): return nodes.contains { evaluate($0, lookup) }
        case .not(let inner): return !evaluate(inner, lookup)
        case .truth(let operand): return lookup(operand).flatMap(parseBoolean) ?? false
        case .compare(let operand, let comparison, let value):
            return comparison.holds(lookup(operand).flatMap { compare($0, value) })
        case .member(let operand, let values, let negated):
            guard let text = lookup(operand) else { return negated }
            return values.contains { compare(text, $0) == 0 } != negated
        }
    }

    /// The row's text against a value of the operand's type: -1, 0 or 1; nil when the text is
    /// not of that type (a date column holding something else).
    static func compare(_ text: String, _ value: Value) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a == b ? 0 : 1 }
        switch value {
        case .string(let other): return sign(text, other)
        case .integer(let other):
            guard let number = parseInteger(text) else { return nil }
            return sign(number, other)
        case .boolean(let other): return parseBoolean(text).map { $0 == other ? 0 : 1 }
        case .date(let other): return parseDate(text.trimmingSpaces).map { sign($0, other) }
        }
    }

    /// A whole number with optional spaces around it and an optional sign, without allocating.
    static func parseInteger(_ text: String) -> Int64? { parseInteger(text.utf8) }

    static func parseInteger<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Int64? {
        var value: Int64 = 0
        var negative = false, digits = 0, started = false, ended = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                if started { ended = true }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard !started else { return nil }
                started = true
                negative = byte == UInt8(ascii: "-")
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard !ended, digits < 18 else { return nil }
                started = true
                digits += 1
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            default: return nil
            }
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }

    static func parseBoolean(_ text: String) -> Bool? { ValueChecker.boolean(text.utf8) }

    /// The bytes without spaces and tabs around them.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// `YYYY-MM-DD` as days since 1970-01-01 (proleptic Gregorian), nil otherwise.
    public static func parseDate(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { parseDate($0) }
    }

    static func parseDate(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), (1...12).contains(month), day >= 1
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let length = switch month {
        case 2: leap ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
        guard day <= length else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func dateText(_ days: Int) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}

/// A mistake in a `where:` expression, at a column (1-based, in characters).
public struct SegmentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let column: Int
    public let message: String

    public var description: String { "column \(column): \(message)" }
}

extension Segment {
    enum Token: Equatable {
        case word(String)
        case string(String)
        case number(Int64)
        case date(Int)
        case symbol(String)
        case end
    }

    struct Parser {
        let characters: [Character]
        let variables: [String: VariableType]
        /// Each variable the expression names, once, in order of first use.
        var slots: [String] = []
        var position = 0
        var token = Token.end
        var tokenColumn = 1

        init(source: String, variables: [VariableSpec]) {
            characters = Array(source)
            self.variables = Dictionary(variables.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        }

        /// Nesting depth in parentheses.
        var depth = 0
        /// The source spans of the operands of the last `and` read outside parentheses.
        var topSpans: [Range<Int>] = []

        mutating func parse() throws(SegmentError) -> (Node, [(node: Node, text: String)]) {
            try advance()
            guard token != .end else { throw SegmentError(column: 1, message: "the expression is empty") }
            let root = try parseOr()
            if token != .end { throw unexpected("and, or, or the end") }
            // An `and` at the top: each operand is a clause `estimate` counts on its own.
            if case .and(let nodes) = root, nodes.count == topSpans.count {
                return (root, zip(nodes, topSpans).map { ($0, String(characters[$1]).trimmingCharacters(in: .whitespaces)) })
            }
            return (root, [(root, String(characters).trimmingCharacters(in: .whitespaces))])
        }

        // or := and ('or' and)*
        mutating func parseOr() throws(SegmentError) -> Node {
            var nodes = [try parseAnd()]
            while try accept(word: "or") { nodes.append(try parseAnd()) }
            return nodes.count == 1 ? nodes[0] : .or(nodes)
        }

        // and := unary ('and' unary)*
        mutating func parseAnd() throws(SegmentError) -> Node {
            var spans: [Range<Int>] = []
            func span(_ start: Int) -> Range<Int> { start..<(token == .end ? characters.count : tokenColumn - 1) }
            var start = tokenColumn - 1
            var nodes = [try parseUnary()]
            spans.append(span(start))
            while try accept(word: "and") {
                start = tokenColumn - 1
                nodes.append(try parseUnary())
                spans.append(span(start))
            }
            if depth == 0 { topSpans = spans }
            return nodes.count == 1 ? nodes[0] : .and(nodes)
        }

        mutating func parseUnary() throws(SegmentError) -> Node {
            if try accept(word: "not") { return .not(try parseUnary()) }
            if try accept(symbol: "(") {
                depth += 1
                let inner = try parseOr()
                depth -= 1
                guard try accept(symbol: ")") else { throw unexpected(")") }
                return inner
            }
            return try parseComparison()
        }

        mutating func parseComparison() throws(SegmentError) -> Node {
            guard case .word(let name) = token, !Self.keywords.contains(name) else { throw unexpected("a variable name") }
            let column = tokenColumn
            let operand = try self.operand(name, column: column)
            try advance()
            if case .symbol(let text) = token, let comparison = Comparison(rawValue: text) {
                try advance()
                let valueColumn = tokenColumn
                let value = try literal()
                try check(operand, comparison, value, column: valueColumn)
                return .compare(operand, comparison, value)
            }
            if token == .symbol("=") { throw SegmentError(column: tokenColumn, message: "use == to compare, not =") }
            var negated = false
            if token == .word("not") {
                try advance()
                guard token == .word("in") else { throw unexpected("in after not") }
                negated = true
            }
            if try accept(word: "in") {
                guard try accept(symbol: "[") else { throw unexpected("[ to open the list") }
                var values: [Value] = []
                repeat {
                    let valueColumn = tokenColumn
                    let value = try literal()
                    try check(operand, .equal, value, column: valueColumn)
                    values.append(value)
                } while try accept(symbol: ",")
                guard try accept(symbol: "]") else { throw unexpected(", or ] to close the list") }
                return .member(operand, values, negated: negated)
            }
            guard operand.kind == .variable(.boolean) else {
                throw SegmentError(column: column, message: "\(name) is \(Self.describe(operand.kind)): compare it with a value "
                    + "(\(name) == ..., \(name) in [...])")
            }
            return .truth(operand)
        }

        mutating func operand(_ name: String, column: Int) throws(SegmentError) -> Operand {
            if let type = variables[name] {
                let slot = slots.firstIndex(of: name) ?? {
                    slots.append(name)
                    return slots.count - 1
                }()
                return Operand(name: name, kind: .variable(type), slot: slot)
            }
            if name == Segment.countryName { return Operand(name: name, kind: .country) }
            let known = (variables.keys.sorted() + [Segment.countryName]).joined(separator: ", ")
            throw SegmentError(column: column, message: "\(name.quoted) is not a variable of the template (\(known))")
        }

        mutating func literal() throws(SegmentError) -> Value {
            let value: Value
            switch token {
            case .string(let text): value = .string(text)
            case .number(let number): value = .integer(number)
            case .date(let days): value = .date(days)
            case .word("true"): value = .boolean(true)
            case .word("false"): value = .boolean(false)
            case .word(let word) where !Self.keywords.contains(word): value = .string(word)
            default: throw unexpected("a value")
            }
            try advance()
            return value
        }

        /// Whether `value` may be compared with `operand` by `comparison`.
        func check(_ operand: Operand, _ comparison: Comparison, _ value: Value, column: Int) throws(SegmentError) {
            let ordering = comparison != .equal && comparison != .notEqual
            let problem: String?
            switch (operand.kind, value) {
            case (.variable(.integer), .integer): problem = nil
            case (.variable(.boolean), .boolean): problem = ordering ? "a boolean is only == or != true or false" : nil
            case (.variable(.string), .string), (.variable(.string), .date): problem = nil
            case (.country, .string(let code)):
                if ordering { problem = "the country is only ==, != or in [...]" } else if code.count != 2 || !code.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                    problem = "\(code.quoted) is not an ISO 3166 alpha-2 code in capitals such as US or GB"
                } else { problem = nil }
            case (.variable(.string), _):
                problem = "\(operand.name) is a string: quote the value (\"\(value.description.replacingOccurrences(of: "\"", with: ""))\")"
            default:
                problem = "\(operand.name) is \(Self.describe(operand.kind)), not comparable with \(value)"
            }
            if let problem { throw SegmentError(column: column, message: problem) }
        }

        static func describe(_ kind: Operand.Kind) -> String {
            switch kind {
            case .variable(.integer): "an integer"
            case .variable(.boolean): "a boolean"
            case .variable(.string): "a string"
            case .country: "the country"
            }
        }

        static let keywords: Set<String> = ["and", "or", "not", "in", "true", "false"]

        mutating func accept(word: String) throws(SegmentError) -> Bool {
            guard token == .word(word) else { return false }
            try advance()
            return true
        }

        mutating func accept(symbol: String) throws(SegmentError) -> Bool {
            guard token == .symbol(symbol) else { return false }
            try advance()
            return true
        }

        func unexpected(_ expected: String) -> SegmentError {
            let found: String
            switch token {
            case .end: found = "the end"
            case .word(let word): found = word.quoted
            case .string(let text): found = "\"\(text)\""
            case .number(let number): found = String(number)
            case .date(let days): found = Segment.dateText(days)
            case .symbol(let symbol): found = symbol.quoted
            }
            return SegmentError(column: tokenColumn, message: "expected \(expected), found \(found)")
        }

        /// Reads the next token.
        mutating func advance() throws(SegmentError) {
            while position < characters.count, characters[position].isWhitespace { position += 1 }
            tokenColumn = position + 1
            guard position < characters.count else {
                token = .end
                return
            }
            let first = characters[position]
            if first == "\"" || first == "'" {
                var text = ""
                position += 1
                while position < characters.count, characters[position] != first {
                    if characters[position] == "\\", position + 1 < characters.count { position += 1 }
                    text.append(characters[position])
                    position += 1
                }
                guard position < characters.count else {
                    throw SegmentError(column: tokenColumn, message: "the quoted value is not closed")
                }
                position += 1
                token = .string(text)
                return
            }
            if first.isNumber || (first == "-" && position + 1 < characters.count && characters[position + 1].isNumber) {
                var end = position + 1
                while end < characters.count, characters[end].isNumber || characters[end] == "-" { end += 1 }
                let text = String(characters[position..<end])
                position = end
                if let days = Segment.parseDate(text) {
                    token = .date(days)
                } else if let number = Int64(text) {
                    token = .number(number)
                } else {
                    throw SegmentError(column: tokenColumn, message: "\(text.quoted) is neither a whole number nor a date (YYYY-MM-DD)")
                }
                return
            }
            if first.isLetter || first == "_" {
                var end = position + 1
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || "_.-".contains(characters[end]) { end += 1 }
                token = .word(String(characters[position..<end]))
                position = end
                return
            }
            for symbol in ["==", "!=", "<=", ">=", "<", ">", "=", "(", ")", "[", "]", ","] where String(characters[position...].prefix(symbol.count)) == symbol {
                position += symbol.count
                token = .symbol(symbol)
                return
            }
            throw SegmentError(column: tokenColumn, message: "\(String(first).quoted) is not part of the where: language")
        }
    }
}
