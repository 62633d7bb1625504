/// A template's variants per language (`language:` in a template file): each row's variant
/// is chosen by the value of one CSV column.
public struct TemplateLanguages: Sendable, Equatable {
    /// The CSV column naming each row's language.
    public let column: String
    /// The variants' codes, in the file's order.
    public let codes: [String]
    /// The variant of a row whose language has none of its own (or no value).
    public let defaultIndex: Int
    /// Codes lowercased with `_` read as `-`, for matching cells without allocating.
    private let normalized: [[UInt8]]

    public init(column: String, codes: [String], defaultIndex: Int) {
        self.column = column
        self.codes = codes
        self.defaultIndex = defaultIndex
        normalized = codes.map { $0.utf8.map(Self.normalize) }
    }

    public static func == (lhs: TemplateLanguages, rhs: TemplateLanguages) -> Bool {
        lhs.column == rhs.column && lhs.codes == rhs.codes && lhs.defaultIndex == rhs.defaultIndex
    }

    /// Whether `code` is written as a language tag: 2-3 letters, then subtags of 1-8 letters or digits (`en`, `es-MX`, `zh-Hant`).
    public static func isCode(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return false
        }
        return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// The variant for a cell: the one whose code it is (any case, `_` for `-`, spaces around
    /// ignored), else the one of its primary language (`es-MX` takes `es`), else the default.
    public func variant(for cell: UnsafeBufferPointer<UInt8>) -> Int {
        var start = 0
        var end = cell.count
        while start < end, cell[start] == UInt8(ascii: " ") || cell[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, cell[end - 1] == UInt8(ascii: " ") || cell[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        guard start < end else { return defaultIndex }
        if let exact = match(cell, start, end) { return exact }
        var primary = start
        while primary < end, Self.normalize(cell[primary]) != UInt8(ascii: "-") { primary += 1 }
        if primary < end, let found = match(cell, start, primary) { return found }
        return defaultIndex
    }

    private func match(_ cell: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        let length = end - start
        outer: for (index, code) in normalized.enumerated() where code.count == length {
            for offset in 0..<length where Self.normalize(cell[start + offset]) != code[offset] { continue outer }
            return index
        }
        return nil
    }

    private static func normalize(_ byte: UInt8) -> UInt8 {
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return byte + 32 }
        return byte == UInt8(ascii: "_") ? UInt8(ascii: "-") : byte
    }
}
