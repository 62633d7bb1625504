import PostgresNIO

/// Several counter upserts sent as one statement, each a data-modifying `WITH` part:
/// one round trip rather than one per table, and the counters' rows, which every writer
/// of a campaign shares, are held only from this statement to the commit. PostgreSQL runs
/// unreferenced data-modifying parts in the order written, so writers that add their
/// tables in one order (tally, report, delivery) lock counter rows in one order too.
/// Two parts must never touch the same row (one statement cannot update a row twice):
/// each table's part carries its own campaign's or its own batch's keys.
struct CounterUpserts {
    private var parts: [String] = []
    private(set) var bindings = PostgresBindings()

    var isEmpty: Bool { parts.isEmpty }

    /// `sql` names its values `$1, $2...` in the order `bind` appends them.
    mutating func add(_ sql: String, bind: (inout PostgresBindings) -> Void) {
        let offset = bindings.count
        bind(&bindings)
        parts.append(offset == 0 ? sql : Self.renumbered(sql, by: offset))
    }

    func run(_ session: PostgresSession) throws {
        guard parts.count > 1 else {
            if let only = parts.first { try session.query(unsafeSQL: only, bindings) }
            return
        }
        let body = parts.enumerated().map { "u\($0.offset) AS (\($0.element))" }.joined(separator: ",\n")
        try session.query(unsafeSQL: "WITH \(body)\nSELECT 1", bindings)
    }

    /// `$n` becomes `$(n + offset)` (the statements here hold no other dollar signs).
    static func renumbered(_ sql: String, by offset: Int) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var digits = ""
        var inParameter = false
        func flush() {
            if inParameter { result += String((Int(digits) ?? 0) + offset) }
            digits = ""
            inParameter = false
        }
        for character in sql {
            if inParameter, character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            flush()
            if character == "$" {
                result.append(character)
                inParameter = true
            } else {
                result.append(character)
            }
        }
        flush()
        return result
    }
}
