/// A template bound to one CSV header. It checks a row's values and renders the
/// body as UTF-8 bytes, without parsing the template again.
public struct RowRenderer: Sendable {
    struct Slot: Sendable {
        let spec: VariableSpec
        let column: Int?
        let pattern: AnchoredPattern?
        /// The default value as rendered, computed once.
        let defaultBytes: [UInt8]?

        init(spec: VariableSpec, column: Int?, pattern: AnchoredPattern?) {
            self.spec = spec
            self.column = column
            self.pattern = pattern
            defaultBytes = spec.defaultValue.map { RowRenderer.canonical($0, spec) }
        }
    }

    enum Piece: Sendable {
        case literal([UInt8])
        case slot(Int)
        /// A value inside a JSON string, escaped as it is copied.
        case jsonSlot(Int)
        /// Pieces copied when the slot's value is true or not empty (negated: otherwise).
        indirect case conditional(Int, negated: Bool, [Piece])
    }

    let slots: [Slot]
    /// The pieces of each variant of the template (one per language).
    let variants: [[Piece]]
    let languages: TemplateLanguages?
    let languageColumn: Int?

    init(slots: [Slot], variants: [[Piece]], languages: TemplateLanguages?, languageColumn: Int?) {
        self.slots = slots
        self.variants = variants
        self.languages = languages
        self.languageColumn = languageColumn
    }

    /// The variant a row renders: its language's index in `languages.codes` (0 without languages).
    public func variant(field: (Int) -> UnsafeBufferPointer<UInt8>) -> Int {
        guard let languages, let languageColumn else { return 0 }
        return languages.variant(for: field(languageColumn))
    }

    /// Columns the renderer reads; their cells must be valid UTF-8.
    public var columns: [Int] { slots.compactMap(\.column) + (languageColumn.map { [$0] } ?? []) }

    /// Renders one row into `output` (cleared first). `field` returns the raw bytes
    /// of a column. Returns the first problem found, or nil when the row is good.
    public func render(
        field: (Int) -> UnsafeBufferPointer<UInt8>, into output: inout [UInt8]
    ) -> RowProblem? {
        render(field: field, variant: variant(field: field), into: &output)
    }

    /// Renders one row in variant `variant` (as `variant(field:)` chose it).
    public func render(
        field: (Int) -> UnsafeBufferPointer<UInt8>, variant: Int, into output: inout [UInt8]
    ) -> RowProblem? {
        output.removeAll(keepingCapacity: true)
        // One value per slot: a cell of the row as is, or bytes of its own (a
        // default, a canonical integer or boolean). Temporary storage, no allocation.
        return withUnsafeTemporaryAllocation(of: Value.self, capacity: slots.count) { values in
            if let problem = check(field: field, into: values) { return problem }
            defer { values.baseAddress!.deinitialize(count: slots.count) }
            append(variants[variant], values: UnsafeBufferPointer(values), to: &output)
            return nil
        }
    }

    private func append(_ pieces: [Piece], values: UnsafeBufferPointer<Value>, to output: inout [UInt8]) {
        for piece in pieces {
            switch piece {
            case .literal(let bytes): output.append(contentsOf: bytes)
            case .slot(let index):
                switch values[index] {
                case .cell(let cell): output.append(contentsOf: cell)
                case .bytes(let bytes): output.append(contentsOf: bytes)
                }
            case .jsonSlot(let index):
                switch values[index] {
                case .cell(let cell): JSONEscape.append(cell, to: &output)
                case .bytes(let bytes): JSONEscape.append(bytes, to: &output)
                }
            case .conditional(let index, let negated, let inner):
                if holds(values[index], slots[index].spec.type) != negated { append(inner, values: values, to: &output) }
            }
        }
    }

    /// A condition's test: a boolean is true, any other value is not empty. A cell is
    /// never empty (an empty cell reads as the default or as no value).
    private func holds(_ value: Value, _ type: VariableType) -> Bool {
        switch value {
        case .cell(let cell): return type == .boolean ? cell.elementsEqual(RowRenderer.trueBytes) : true
        case .bytes(let bytes): return type == .boolean ? bytes == RowRenderer.trueBytes : !bytes.isEmpty
        }
    }

    private static let trueBytes = Array("true".utf8)

    /// Fills `values` (all of it, or none when a problem is returned).
    private func check(
        field: (Int) -> UnsafeBufferPointer<UInt8>, into values: UnsafeMutableBufferPointer<Value>
    ) -> RowProblem? {
        slots.withUnsafeBufferPointer { slots in
            for index in slots.indices {
                var raw = slots[index].column.map(field)
                if let cell = raw, cell.isEmpty { raw = nil }
                let value: Value
                if let cell = raw {
                    switch ValueChecker.check(cell, as: slots[index].spec, pattern: slots[index].pattern) {
                    case .failure(let problem):
                        values.baseAddress!.deinitialize(count: index)
                        return problem
                    case .success(.asIs): value = .cell(cell)
                    case .success(.replaced(let bytes)): value = .bytes(bytes)
                    }
                } else if let fallback = slots[index].defaultBytes {
                    value = .bytes(fallback)
                } else if slots[index].spec.required {
                    values.baseAddress!.deinitialize(count: index)
                    return RowProblem(reason: .missingValue, column: slots[index].spec.name, detail: "required value is empty")
                } else {
                    value = .bytes([])
                }
                values.initializeElement(at: index, to: value)
            }
            return nil
        }
    }

    private enum Value {
        case cell(UnsafeBufferPointer<UInt8>)
        case bytes([UInt8])
    }

    static func canonical(_ value: String, _ spec: VariableSpec) -> [UInt8] {
        if case .success(.replaced(let bytes)) = ValueChecker.check(Array(value.utf8), as: spec, pattern: nil) {
            return bytes
        }
        return Array(value.utf8)
    }
}
