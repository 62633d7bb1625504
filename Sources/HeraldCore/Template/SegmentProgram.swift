/// A `where:` filter flattened for the scanner, which evaluates it on every row: plain values
/// only (no enum payloads, no Strings, no closures kept), strings held as bytes, so evaluating a
/// row neither allocates nor retains. It gives the same answers as `Segment.evaluate` over the
/// cells as text (a property test holds the two together).
public final class SegmentProgram: @unchecked Sendable {  // immutable after init
    enum Op: UInt8 { case and, or, not, compare, member, truth }

    /// One node. `and`/`or`/`not`: its operands are `operands[first..<first+count]`;
    /// `compare`: the constant `constants[first]`; `member`: `constants[first..<first+count]`.
    struct Step {
        var op: Op
        var comparison: Segment.Comparison = .equal
        var negated = false
        /// The operand's slot (`Segment.variables`), -1 for the country.
        var slot = -1
        var first = 0
        var count = 0
    }

    /// A value of the expression: bytes at `start..<start+length` of `bytes` for strings.
    struct Constant {
        enum Kind: UInt8 { case string, integer, boolean, date }
        var kind: Kind
        var number: Int64 = 0
        var start = 0
        var length = 0
        var ascii = true
    }

    private let steps: UnsafeMutableBufferPointer<Step>
    private let operands: UnsafeMutableBufferPointer<Int>
    private let constants: UnsafeMutableBufferPointer<Constant>
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    /// Each top-level clause's step.
    private let clauses: UnsafeMutableBufferPointer<Int>
    /// Each slot's default, as bytes in `bytes` (length -1: none).
    private let defaults: UnsafeMutableBufferPointer<(start: Int, length: Int)>

    /// `defaults`: each slot's default value (nil: none), as the template declares it.
    init(clauses roots: [Segment.Node], defaults slotDefaults: [String?]) {
        var steps: [Step] = [], operands: [Int] = [], constants: [Constant] = [], bytes: [UInt8] = []
        func add(_ text: String) -> (start: Int, length: Int) {
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            return (start, bytes.count - start)
        }
        func constant(_ value: Segment.Value) -> Constant {
            switch value {
            case .string(let text):
                let (start, length) = add(text)
                return Constant(kind: .string, start: start, length: length, ascii: text.utf8.allSatisfy { $0 < 0x80 })
            case .integer(let number): return Constant(kind: .integer, number: number)
            case .boolean(let flag): return Constant(kind: .boolean, number: flag ? 1 : 0)
            case .date(let days): return Constant(kind: .date, number: Int64(days))
            }
        }
        func compile(_ node: Segment.Node) -> Int {
            let index = steps.count
            steps.append(Step(op: .truth))
            switch node {
            case .and(let nodes), .or(let nodes):
                let children = nodes.map(compile)
                steps[index] = Step(op: { if case .and = node { return .and } else { return .or } }(),
                                    first: operands.count, count: children.count)
                operands += children
            case .not(let inner):
                let child = compile(inner)
                steps[index] = Step(op: .not, first: operands.count, count: 1)
                operands.append(child)
            case .truth(let operand):
                steps[index] = Step(op: .truth, slot: operand.slot)
            case .compare(let operand, let comparison, let value):
                steps[index] = Step(op: .compare, comparison: comparison, slot: operand.slot, first: constants.count, count: 1)
                constants.append(constant(value))
            case .member(let operand, let values, let negated):
                steps[index] = Step(op: .member, negated: negated, slot: operand.slot, first: constants.count, count: values.count)
                constants += values.map(constant)
            }
            return index
        }
        let roots = roots.map(compile)
        let defaultSpans = slotDefaults.map { $0.map(add) ?? (start: 0, length: -1) }
        func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return buffer
        }
        self.steps = copy(steps)
        self.operands = copy(operands)
        self.constants = copy(constants)
        self.bytes = copy(bytes)
        self.clauses = copy(roots)
        self.defaults = copy(defaultSpans)
    }

    deinit {
        steps.deallocate()
        operands.deallocate()
        constants.deallocate()
        bytes.deallocate()
        clauses.deallocate()
        defaults.deallocate()
    }

    /// The top-level clauses a row fails, one bit each (the first 64), and the first of them;
    /// (0, nil) when the row is in the segment. `cell(slot)` is the row's cell for a variable
    /// (nil: no such column), or the country code for slot -1 (nil: no number).
    public func misses(_ cell: (Int) -> UnsafeBufferPointer<UInt8>?) -> (bits: UInt64, first: Int?) {
        var bits: UInt64 = 0
        var first: Int?
        for index in 0..<clauses.count where !evaluate(clauses[index], cell) {
            if index < 64 { bits |= 1 << UInt64(index) }
            if first == nil { first = index }
        }
        return (bits, first)
    }

    /// The operand's text: the cell, or the default when the cell is empty; nil when neither.
    private func value(_ slot: Int, _ cell: (Int) -> UnsafeBufferPointer<UInt8>?) -> UnsafeBufferPointer<UInt8>? {
        let found = cell(slot)
        if slot < 0 { return found }
        if let found, !found.isEmpty { return found }
        let span = defaults[slot]
        guard span.length >= 0 else { return nil }
        return UnsafeBufferPointer(rebasing: bytes[span.start..<(span.start + span.length)])
    }

    private func evaluate(_ index: Int, _ cell: (Int) -> UnsafeBufferPointer<UInt8>?) -> Bool {
        let step = steps[index]
        switch step.op {
        case .and:
            for offset in 0..<step.count where !evaluate(operands[step.first + offset], cell) { return false }
            return true
        case .or:
            for offset in 0..<step.count where evaluate(operands[step.first + offset], cell) { return true }
            return false
        case .not:
            return !evaluate(operands[step.first], cell)
        case .truth:
            return value(step.slot, cell).flatMap(ValueChecker.boolean) ?? false
        case .compare:
            return step.comparison.holds(value(step.slot, cell).flatMap { compare($0, constants[step.first]) })
        case .member:
            guard let text = value(step.slot, cell) else { return step.negated }
            for offset in 0..<step.count where compare(text, constants[step.first + offset]) == 0 { return !step.negated }
            return step.negated
        }
    }

    /// As `Segment.compare`, on bytes.
    private func compare(_ text: UnsafeBufferPointer<UInt8>, _ constant: Constant) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a == b ? 0 : 1 }
        switch constant.kind {
        case .string:
            let other = UnsafeBufferPointer(rebasing: bytes[constant.start..<(constant.start + constant.length)])
            guard constant.ascii, text.allSatisfy({ $0 < 0x80 }) else {
                // Beyond ASCII, Swift's String order (canonical equivalence) decides.
                return sign(String(decoding: text, as: UTF8.self), String(decoding: other, as: UTF8.self))
            }
            let shared = min(text.count, other.count)
            for index in 0..<shared where text[index] != other[index] { return text[index] < other[index] ? -1 : 1 }
            return sign(text.count, other.count)
        case .integer:
            return Segment.parseInteger(text).map { sign($0, constant.number) }
        case .boolean:
            return ValueChecker.boolean(text).map { ($0 ? 1 : 0) == constant.number ? 0 : 1 }
        case .date:
            return Segment.parseDate(Segment.trimmed(text)).map { sign(Int64($0), constant.number) }
        }
    }
}
