/// A template bound to one CSV header. It checks a row's values and renders the
/// body as UTF-8 bytes, without parsing the template again.
public struct RowRenderer: Sendable {
    struct Slot: Sendable {
        let spec: VariableSpec
        let column: Int?
        let pattern: AnchoredPattern?
    }

    enum Piece: Sendable {
        case literal([UInt8])
        case slot(Int)
    }

    let slots: [Slot]
    let pieces: [Piece]

    /// Columns the renderer reads; their cells must be valid UTF-8.
    public var columns: [Int] { slots.compactMap(\.column) }

    /// Renders one row into `output` (cleared first). `field` returns the raw bytes
    /// of a column. Returns the first problem found, or nil when the row is good.
    public func render(
        field: (Int) -> UnsafeBufferPointer<UInt8>, into output: inout [UInt8]
    ) -> RowProblem? {
        output.removeAll(keepingCapacity: true)
        var replaced: [[UInt8]?] = []
        var values: [UnsafeBufferPointer<UInt8>?] = []
        replaced.reserveCapacity(slots.count)
        values.reserveCapacity(slots.count)
        for slot in slots {
            var raw = slot.column.map(field)
            if let cell = raw, cell.isEmpty { raw = nil }
            guard let cell = raw else {
                if let fallback = slot.spec.defaultValue {
                    values.append(nil)
                    replaced.append(Self.canonical(fallback, slot))
                    continue
                }
                if slot.spec.required {
                    return RowProblem(reason: .missingValue, column: slot.spec.name, detail: "required value is empty")
                }
                values.append(nil)
                replaced.append([])
                continue
            }
            switch ValueChecker.check(cell, as: slot.spec, pattern: slot.pattern) {
            case .failure(let problem): return problem
            case .success(.asIs):
                values.append(cell)
                replaced.append(nil)
            case .success(.replaced(let bytes)):
                values.append(nil)
                replaced.append(bytes)
            }
        }
        for piece in pieces {
            switch piece {
            case .literal(let bytes): output.append(contentsOf: bytes)
            case .slot(let index):
                if let bytes = replaced[index] {
                    output.append(contentsOf: bytes)
                } else if let cell = values[index] {
                    output.append(contentsOf: cell)
                }
            }
        }
        return nil
    }

    private static func canonical(_ value: String, _ slot: Slot) -> [UInt8] {
        if case .success(.replaced(let bytes)) = ValueChecker.check(Array(value.utf8), as: slot.spec, pattern: nil) {
            return bytes
        }
        return Array(value.utf8)
    }
}
