/// Checks one raw cell against a variable's type and constraints and returns the
/// bytes to render: integers in canonical form, booleans as `true` / `false`.
enum ValueChecker {
    enum Checked {
        case asIs
        case replaced([UInt8])
    }

    static func check(
        _ raw: some Collection<UInt8>, as spec: borrowing VariableSpec, pattern: AnchoredPattern?
    ) -> Result<Checked, RowProblem> {
        switch spec.type {
        case .integer: return checkInteger(raw, spec)
        case .boolean: return checkBoolean(raw, spec)
        case .string: return checkString(raw, spec, pattern)
        }
    }

    private static func checkInteger(_ raw: some Collection<UInt8>, _ spec: borrowing VariableSpec) -> Result<Checked, RowProblem> {
        // Most cells are already canonical: 1-18 digits, no sign, no leading zero.
        if !raw.isEmpty, raw.count <= 18, raw.first != UInt8(ascii: "0") || raw.count == 1,
           raw.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
            return .success(.asIs)
        }
        let text = String(decoding: raw, as: UTF8.self).trimmingSpaces
        guard let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            return .failure(RowProblem(reason: .invalidValue, column: spec.name, detail: "\(text.quoted) is not an integer"))
        }
        let canonical = String(value)
        return canonical.utf8.elementsEqual(raw) ? .success(.asIs) : .success(.replaced(Array(canonical.utf8)))
    }

    static let trueBytes = Array("true".utf8)
    static let falseBytes = Array("false".utf8)

    /// A boolean cell: `true`/`yes`/`1` or `false`/`no`/`0` in any case, with spaces or tabs
    /// around; nil otherwise. Without allocating: the word is lowercased into an integer.
    /// (Lowercasing beyond ASCII never yields one of these words, so bytes decide alone.)
    static func boolean(_ raw: some Collection<UInt8>) -> Bool? {
        var word: UInt64 = 0
        var length = 0
        var trailing = false
        for byte in raw {
            if byte == 0x20 || byte == 0x09 {
                if length > 0 { trailing = true }
                continue
            }
            guard !trailing, length < 5, byte < 0x80 else { return nil }
            word = word << 8 | UInt64(byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0))
            length += 1
        }
        switch word {
        case 0x74_72_75_65, 0x79_65_73, 0x31: return true  // true, yes, 1
        case 0x66_61_6C_73_65, 0x6E_6F, 0x30: return false  // false, no, 0
        default: return nil
        }
    }

    private static func checkBoolean(_ raw: some Collection<UInt8>, _ spec: borrowing VariableSpec) -> Result<Checked, RowProblem> {
        if let value = boolean(raw) { return .success(.replaced(value ? trueBytes : falseBytes)) }
        let text = String(decoding: raw, as: UTF8.self).trimmingSpaces
        return .failure(RowProblem(reason: .invalidValue, column: spec.name, detail: "\(text.quoted) is not a boolean (true/false, yes/no, 1/0)"))
    }

    private static func checkString(
        _ raw: some Collection<UInt8>, _ spec: borrowing VariableSpec, _ pattern: AnchoredPattern?
    ) -> Result<Checked, RowProblem> {
        if let maxLength = spec.maxLength {
            // Unicode scalars: count every byte that does not continue a sequence.
            let length = raw.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            if length > maxLength {
                return .failure(RowProblem(reason: .invalidValue, column: spec.name, detail: "\(length) characters, more than max_length \(maxLength)"))
            }
        }
        if let pattern {
            let text = String(decoding: raw, as: UTF8.self)
            guard pattern.matches(text) else {
                return .failure(RowProblem(reason: .invalidValue, column: spec.name, detail: "\(text.quoted) does not match pattern \(pattern.source)"))
            }
        }
        return .success(.asIs)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    public var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }

}
