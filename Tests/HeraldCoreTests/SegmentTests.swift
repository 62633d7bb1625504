import HeraldCore
import Testing

/// `where:`: the grammar, its types, its errors (with their column), and a property: a filter
/// and its `not` split any set of rows exactly.
@Suite struct SegmentTests {
    static let variables = [
        VariableSpec(name: "name", type: .string),
        VariableSpec(name: "visits", type: .integer),
        VariableSpec(name: "vip", type: .boolean),
        VariableSpec(name: "joined", type: .string),
    ]

    /// A row: variable values by name (nil: empty) and its country.
    static func lookup(_ values: [String: String?], country: String = "US") -> Segment.Lookup {
        { operand in operand.kind == .country ? country : (values[operand.name] ?? nil) }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let source: String
        let row: [String: String?]
        let country: String
        let expected: Bool
        var testDescription: String { source }
        init(_ source: String, _ row: [String: String?], country: String = "US", _ expected: Bool) {
            self.source = source
            self.row = row
            self.country = country
            self.expected = expected
        }
    }

    static let cases: [Case] = [
        Case("visits >= 3", ["visits": "3"], true),
        Case("visits >= 3", ["visits": "2"], false),
        Case("visits > -1", ["visits": "+0"], true),
        Case("vip", ["vip": "yes"], true),
        Case("not vip", ["vip": "0"], true),
        Case("vip == false", ["vip": "False"], true),
        Case("name == \"Ada Lovelace\"", ["name": "Ada Lovelace"], true),
        Case("name == 'Ada' or name == Grace", ["name": "Grace"], true),
        Case("name in [Ada, Grace]", ["name": "Linus"], false),
        Case("name not in [Ada, Grace]", ["name": "Linus"], true),
        Case("country in [US, CA]", [:], country: "CA", true),
        Case("country != GB", [:], country: "GB", false),
        Case("joined < 2026-01-01", ["joined": "2025-12-31"], true),
        Case("joined >= 2026-01-01", ["joined": "2026-1-1"], false),  // not a date: no comparison holds
        Case("visits > 1 and vip or name == Ada", ["visits": "0", "vip": "false", "name": "Ada"], true),  // (a and b) or c
        Case("visits > 1 and (vip or name == Ada)", ["visits": "0", "vip": "true", "name": "Ada"], false),
        Case("not (visits > 1 and vip)", ["visits": "5", "vip": "true"], false),
        // An empty value: every comparison is false but !=, in is false, not in is true.
        Case("visits == 0", ["visits": nil], false),
        Case("visits != 0", ["visits": nil], true),
        Case("name not in [Ada]", ["name": nil], true),
        Case("vip", ["vip": nil], false),
    ]

    @Test(arguments: cases)
    func evaluates(_ test: Case) throws {
        let segment = try Segment(test.source, variables: Self.variables)
        #expect(segment.contains(Self.lookup(test.row, country: test.country)) == test.expected)
    }

    @Test func topLevelClausesAreCountedApart() throws {
        let segment = try Segment("country == US and visits >= 3 and (vip or name == Ada)", variables: Self.variables)
        #expect(segment.clauses.map(\.text) == ["country == US", "visits >= 3", "(vip or name == Ada)"])
        #expect(segment.clauseResults(Self.lookup(["visits": "5", "vip": "false", "name": "Bob"])) == [true, true, false])
        #expect(try Segment("visits > 1 or vip", variables: Self.variables).clauses.map(\.text) == ["visits > 1 or vip"])
        #expect(try Segment("name == Ada and vip", variables: Self.variables).variableNames == ["name", "vip"])
    }

    @Test(arguments: [
        ("", "column 1: the expression is empty"),
        ("age > 3", "column 1: \"age\" is not a variable of the template (joined, name, vip, visits, country)"),
        ("visits > three", "column 10: visits is an integer, not comparable with \"three\""),
        ("visits = 3", "column 8: use == to compare, not ="),
        ("name == 42", "column 9: name is a string: quote the value (\"42\")"),
        ("vip < true", "column 7: a boolean is only == or != true or false"),
        ("visits", "column 1: visits is an integer: compare it with a value (visits == ..., visits in [...])"),
        ("country == usa", "column 12: \"usa\" is not an ISO 3166 alpha-2 code in capitals such as US or GB"),
        ("country < US", "column 11: the country is only ==, != or in [...]"),
        ("(vip or visits > 2", "column 19: expected ), found the end"),
        ("name in [Ada, ]", "column 15: expected a value, found \"]\""),
        ("name == \"Ada", "column 9: the quoted value is not closed"),
        ("joined < 2026-13-01", "column 10: \"2026-13-01\" is neither a whole number nor a date (YYYY-MM-DD)"),
        ("vip and", "column 8: expected a variable name, found the end"),
        ("vip vip", "column 5: expected and, or, or the end, found \"vip\""),
        ("visits > 1 ; drop", "column 12: \";\" is not part of the where: language"),
    ])
    func mistakesNameTheirColumn(_ source: String, _ expected: String) {
        #expect(throws: SegmentError.self) { try Segment(source, variables: Self.variables) }
        do {
            _ = try Segment(source, variables: Self.variables)
        } catch {
            #expect(error.description == expected)
        }
    }

    /// A random filter over name, visits, vip, joined and the country, nested up to `depth`:
    /// every comparison, membership, truth and `not`, values with non-ASCII and decomposed text.
    static func randomFilter(_ random: inout SplitMix64, depth: Int) -> String {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func atom() -> String {
            switch random.next() % 7 {
            case 0: "visits \(pick(["==", "!=", "<", "<=", ">", ">="])) \(Int(random.next() % 7) - 1)"
            case 1: pick(["vip", "not vip", "vip == true", "vip != false"])
            case 2: "name \(pick(["in", "not in"])) [\(pick(["Ada", "Bob", "\"Zoë\""])), \(pick(["Cy", "\"Dee\"", "\"Ángel\""]))]"
            case 3: "joined \(pick(["<", ">=", "==", "!="])) 2026-0\(1 + random.next() % 9)-1\(random.next() % 9)"
            case 4: "country \(pick(["==", "!="])) \(pick(["US", "GB"]))"
            case 5: "country \(pick(["in", "not in"])) [US, FR]"
            default: "name \(pick(["<", ">", "==", "<="])) \(pick(["Bob", "M", "\"Zoë\"", "\"Zoe\u{308}\""]))"
            }
        }
        func expression(_ depth: Int) -> String {
            guard depth > 0, random.next() % 3 != 0 else { return atom() }
            switch random.next() % 3 {
            case 0: return "(\(expression(depth - 1)) and \(expression(depth - 1)))"
            case 1: return "(\(expression(depth - 1)) or \(expression(depth - 1)))"
            default: return "not \(expression(depth - 1))"
            }
        }
        return expression(depth)
    }

    /// Random filters over random rows: for each row exactly one of the filter and its `not` holds.
    @Test func aFilterAndItsNotSplitTheRowsExactly() throws {
        var random = SplitMix64(seed: 2026)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let rows: [([String: String?], String)] = (0..<200).map { _ in
            (["visits": pick([nil, "0", "3", "+5", "-1"]), "vip": pick([nil, "true", "no", "1"]),
              "name": pick([nil, "Ada", "Bob", "Cy", "Dee", "Zed"]),
              "joined": pick([nil, "2026-03-14", "2025-12-31", "not a date", "2026-09-19"])], pick(["US", "GB", "FR"]))
        }
        for _ in 0..<300 {
            let source = Self.randomFilter(&random, depth: 3)
            let segment = try Segment(source, variables: Self.variables)
            let negation = try Segment("not (\(source))", variables: Self.variables)
            var inside = 0, outside = 0
            for (values, country) in rows {
                let lookup = Self.lookup(values, country: country)
                let a = segment.contains(lookup), b = negation.contains(lookup)
                #expect(a != b, "\(source) on \(values)")
                if a { inside += 1 } else { outside += 1 }
            }
            #expect(inside + outside == rows.count)
        }
    }

    /// The flattened program the scanner runs gives what `Segment.evaluate` gives on the cells as
    /// text, clause by clause: random filters over rows with defaults, empty cells, spaces, other
    /// cases, non-ASCII and decomposed text (which Swift orders by canonical equivalence).
    @Test func theProgramAgreesWithTheTreeClauseByClause() throws {
        let variables = [
            VariableSpec(name: "name", type: .string, defaultValue: "Bob"),
            VariableSpec(name: "visits", type: .integer, defaultValue: "2"),
            VariableSpec(name: "vip", type: .boolean),
            VariableSpec(name: "joined", type: .string),
        ]
        var random = SplitMix64(seed: 38)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let names: [String?] = [nil, "", "Ada", "Bob", "Cy", "Dee", "Zed", "Zoë", "Zoe\u{308}", "Ángel", "ada", " Bob"]
        let rows: [([String: String?], String?)] = (0..<300).map { _ in
            (["visits": pick([nil, "", "0", "3", "+5", "-1", " 4 ", "x", "99999999999999999999"]),
              "vip": pick([nil, "", "true", "no", "1", "YES", " False ", "maybe", "truest"]),
              "name": pick(names),
              "joined": pick([nil, "2026-03-14", " 2025-12-31", "not a date", "2026-09-19", "2026-02-30"])],
             pick(["US", "GB", "FR", nil]))
        }
        let defaults = Dictionary(uniqueKeysWithValues: variables.map { ($0.name, $0.defaultValue) })
        let slotsOf = { (segment: Segment) in segment.variables }
        for _ in 0..<300 {
            let source = (0..<(1 + Int(random.next() % 3))).map { _ in Self.randomFilter(&random, depth: 2) }.joined(separator: " and ")
            let segment = try Segment(source, variables: variables)
            for (values, country) in rows {
                // The tree, on text: an empty or missing cell takes the default, as the scanner does.
                let tree = segment.clauseResults { operand in
                    guard operand.kind != .country else { return country }
                    if let cell = values[operand.name] ?? nil, !cell.isEmpty { return cell }
                    return defaults[operand.name] ?? nil
                }
                var expectedBits: UInt64 = 0
                for (index, passed) in tree.enumerated() where !passed { expectedBits |= 1 << UInt64(index) }
                // The program, on bytes.
                let cells = slotsOf(segment).map { name in
                    (values[name] ?? nil).map { text in
                        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.utf8.count)
                        _ = buffer.initialize(from: text.utf8)
                        return buffer
                    }
                }
                defer { cells.forEach { $0?.deallocate() } }
                var countryText = country ?? ""
                let (bits, first) = countryText.withUTF8 { countryBytes in
                    segment.program.misses { slot in
                        if slot < 0 { return country == nil ? nil : countryBytes }
                        return cells[slot].map { UnsafeBufferPointer($0) }
                    }
                }
                #expect(bits == expectedBits, "\(source) on \(values), \(country ?? "no country")")
                #expect(first == tree.firstIndex(of: false))
            }
        }
    }
}
