import Testing
@testable import HeraldCore

@Suite struct TemplateTests {
    static let variables = [
        VariableSpec(name: "name", type: .string, required: true, maxLength: 5),
        VariableSpec(name: "code", type: .string, required: true, pattern: "[A-Z0-9]{3}"),
        VariableSpec(name: "points", type: .integer, defaultValue: "0"),
        VariableSpec(name: "vip", type: .boolean),
    ]

    func template(_ body: String = "Hi <name>, <code>, <points>, <vip>") throws -> Template {
        try Template(id: "t", channel: .sms, variables: Self.variables, body: TemplateBody(parsing: body))
    }

    /// Renders one row given as column name -> value.
    func render(_ row: [String: String], columns: [String] = ["phone", "name", "code", "points", "vip"],
                body: String = "Hi <name>, <code>, <points>, <vip>") throws -> Result<String, RowProblem>
    {
        let renderer = try template(body).bind(columns: columns)
        let cells = columns.map { Array((row[$0] ?? "").utf8) }
        var output: [UInt8] = []
        let buffers = cells.map { cell -> UnsafeMutableBufferPointer<UInt8> in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(cell.count, 1))
            _ = buffer.initialize(from: cell)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let problem = renderer.render(
            field: { UnsafeBufferPointer(rebasing: buffers[$0][0..<cells[$0].count]) }, into: &output)
        if let problem { return .failure(problem) }
        return .success(String(decoding: output, as: UTF8.self))
    }

    @Test func unknownPlaceholderIsRejected() {
        #expect(throws: TemplateError.unknownPlaceholder("nmae", declared: ["name", "code", "points", "vip"])) {
            try template("Hi <nmae>")
        }
    }

    @Test func invalidDefaultIsRejected() {
        #expect(throws: TemplateError.self) {
            try Template(id: "t", channel: .sms, variables: [VariableSpec(name: "n", type: .integer, defaultValue: "ten")],
                         body: TemplateBody(parsing: "<n>"))
        }
    }

    @Test func invalidPatternAndMisplacedConstraintsAreRejected() {
        #expect(throws: TemplateError.invalidPattern(variable: "c", pattern: "[A-")) {
            try Template(id: "t", channel: .sms, variables: [VariableSpec(name: "c", type: .string, pattern: "[A-")],
                         body: TemplateBody(parsing: "<c>"))
        }
        #expect(throws: TemplateError.constraintOnWrongType(variable: "n", constraint: "max_length")) {
            try Template(id: "t", channel: .sms, variables: [VariableSpec(name: "n", type: .integer, maxLength: 3)],
                         body: TemplateBody(parsing: "<n>"))
        }
    }

    @Test func requiredVariableWithoutColumnFailsBinding() throws {
        let error = #expect(throws: BindingError.self) { try template().bind(columns: ["phone", "name"]) }
        #expect(error?.missingVariables == ["code"])
        #expect(error?.description.contains("\"code\"") == true)
    }

    @Test func rendersWithCanonicalValuesAndDefaults() throws {
        #expect(try render(["name": "Ada", "code": "AB1", "points": "+007", "vip": "Yes"]).get() == "Hi Ada, AB1, 7, true")
        #expect(try render(["name": "Ada", "code": "AB1", "points": "", "vip": ""]).get() == "Hi Ada, AB1, 0, ")
        #expect(try render(["name": "Zoë", "code": "AB1", "vip": "0"], columns: ["phone", "name", "code", "vip"]).get()
            == "Hi Zoë, AB1, 0, false")
    }

    @Test(arguments: [
        (["name": "", "code": "AB1"], Reason.missingValue, "name"),
        (["name": "Adaline", "code": "AB1"], .invalidValue, "name"),
        (["name": "Ada", "code": "ab1"], .invalidValue, "code"),
        (["name": "Ada", "code": "AB1", "points": "1.5"], .invalidValue, "points"),
        (["name": "Ada", "code": "AB1", "vip": "maybe"], .invalidValue, "vip"),
    ])
    func badValuesNameTheirColumn(row: [String: String], reason: Reason, column: String) throws {
        guard case .failure(let problem) = try render(row) else {
            Issue.record("expected a problem")
            return
        }
        #expect(problem.reason == reason)
        #expect(problem.column == column)
    }

    @Test func maxLengthCountsCharactersNotBytes() throws {
        #expect(try render(["name": "ÉÉÉÉÉ", "code": "AB1"]).get().hasPrefix("Hi ÉÉÉÉÉ,"))
    }

    @Test func conditionsShowTextByTheirVariable() throws {
        let body = "Hi <name>.<vip? Gold.><!vip? Join us.><points? <points> pts.><code? Code <code>.>"
        // A boolean holds when true; an integer or a string when not empty (0 is a value).
        #expect(try render(["name": "Ada", "code": "AB1", "points": "0", "vip": "yes"], body: body).get()
            == "Hi Ada. Gold. 0 pts. Code AB1.")
        #expect(try render(["name": "Ada", "code": "AB1", "points": "", "vip": "no"], body: body).get()
            == "Hi Ada. Join us. 0 pts. Code AB1.")
        // An empty boolean without a default is false; a missing column reads as empty.
        #expect(try render(["name": "Ada", "code": "AB1", "vip": ""], body: body).get() == "Hi Ada. Join us. 0 pts. Code AB1.")
        let optional = "<name><vip?!><!vip?.>"
        #expect(try render(["name": "Ada", "code": "AB1"], columns: ["phone", "name", "code"], body: optional).get() == "Ada.")
    }

    @Test func nestedConditionsNeedEveryCondition() throws {
        let body = "<vip?V<points?P<!code?never>>>|"
        #expect(try render(["name": "A", "code": "AB1", "points": "5", "vip": "1"], body: body).get() == "VP|")
        #expect(try render(["name": "A", "code": "AB1", "points": "5", "vip": "0"], body: body).get() == "|")
    }

    @Test func aConditionsVariableIsDeclaredAndCheckedLikeAPlaceholder() throws {
        #expect(throws: TemplateError.unknownPlaceholder("gold", declared: ["name", "code", "points", "vip"])) {
            try template("Hi <gold?x>")
        }
        // A value the condition reads is checked even when the text is not shown.
        guard case .failure(let problem) = try render(["name": "A", "code": "AB1", "vip": "maybe"], body: "<vip?x>") else {
            Issue.record("expected a problem")
            return
        }
        #expect(problem.column == "vip")
    }

    /// Random bodies and rows against a reference renderer written from the documented
    /// rules on strings, independent of the compiled pieces.
    @Test func randomConditionsRenderAsTheReferenceSays() throws {
        var random = SplitMix64(seed: 38)
        let names = ["name", "code", "points", "vip"]
        for _ in 0..<400 {
            let tree = Self.randomTree(&random, depth: 0, names: names)
            let source = tree.map(\.source).joined()
            let row = ["name": ["Ada", "Bo"][Int(random.next() % 2)], "code": "AB1",
                       "points": ["", "0", "12"][Int(random.next() % 3)], "vip": ["", "yes", "no", "1"][Int(random.next() % 4)]]
            let values = ["name": row["name"]!, "code": "AB1", "points": row["points"]!.isEmpty ? "0" : row["points"]!,
                          "vip": row["vip"]!.isEmpty ? "" : (row["vip"] == "no" ? "false" : "true")]
            let expected = tree.map { $0.render(values) }.joined()
            #expect(try render(row, body: source).get() == expected, "\(source) with \(row)")
        }
    }

    indirect enum Node {
        case text(String)
        case value(String)
        case condition(String, negated: Bool, [Node])

        var source: String {
            switch self {
            case .text(let text): return text.replacingOccurrences(of: "<", with: "\\<")
            case .value(let name): return "<\(name)>"
            case .condition(let name, let negated, let inner):
                return "<\(negated ? "!" : "")\(name)?" + inner.map(\.insideSource).joined() + ">"
            }
        }

        var insideSource: String {
            if case .text(let text) = self { return text.replacingOccurrences(of: "<", with: "\\<").replacingOccurrences(of: ">", with: "\\>") }
            return source
        }

        func render(_ values: [String: String]) -> String {
            switch self {
            case .text(let text): return text
            case .value(let name): return values[name]!
            case .condition(let name, let negated, let inner):
                let value = values[name]!
                let holds = name == "vip" ? value == "true" : !value.isEmpty
                return holds != negated ? inner.map { $0.render(values) }.joined() : ""
            }
        }
    }

    static func randomTree(_ random: inout SplitMix64, depth: Int, names: [String]) -> [Node] {
        (0..<Int(random.next() % 4)).map { _ in
            switch random.next() % 3 {
            case 0: return .text(["a", " b<", "c>", "é ", ">"][Int(random.next() % 5)])
            case 1: return .value(names[Int(random.next() % 4)])
            default:
                guard depth < TemplateBody.maximumNesting else { return .text("z") }
                return .condition(names[Int(random.next() % 4)], negated: random.next() % 2 == 0,
                                  randomTree(&random, depth: depth + 1, names: names))
            }
        }
    }

    @Test(arguments: [
        ("es", 1), ("ES", 1), (" es ", 1), ("es-MX", 1), ("es_mx", 1), ("pt-BR", 2), ("pt_br", 2), ("pt", 3), ("PT-PT", 3),
        ("en", 0), ("", 0), ("de", 0), ("e", 0), ("esp", 0), ("-", 0), ("pt-BRX", 3),
    ])
    func aRowsLanguageChoosesItsVariant(cell: String, expected: Int) {
        let languages = TemplateLanguages(column: "lang", codes: ["en", "es", "pt-BR", "pt"], defaultIndex: 0)
        let bytes = Array(cell.utf8)
        #expect(bytes.withUnsafeBufferPointer { languages.variant(for: $0) } == expected)
    }

    @Test(arguments: [("en", true), ("pt-BR", true), ("zh-Hant", true), ("fil", true), ("e", false), ("english", false),
                      ("en-", false), ("12", false), ("en_US", false), ("en-123456789", false)])
    func languageCodesAreTags(code: String, valid: Bool) {
        #expect(TemplateLanguages.isCode(code) == valid)
    }

    @Test func eachVariantIsCheckedAndRenderedForItsRows() throws {
        let variants = try ["Hi <name><vip?!>", "Hola <name><points? (<points>)>"].map {
            Template.Variant(body: try TemplateBody(parsing: $0))
        }
        let template = try Template(id: "t", channel: .sms, variables: Self.variables, variants: variants,
                                    languages: TemplateLanguages(column: "lang", codes: ["en", "es"], defaultIndex: 0))
        let renderer = try template.bind(columns: ["name", "code", "points", "vip", "lang"])
        func render(_ cells: [String]) -> String {
            let owned = cells.map { Array($0.utf8) }
            var output: [UInt8] = []
            let pointers = owned.map { bytes -> UnsafeMutableBufferPointer<UInt8> in
                let pointer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
                _ = pointer.initialize(from: bytes)
                return pointer
            }
            defer { pointers.forEach { $0.deallocate() } }
            _ = renderer.render(field: { UnsafeBufferPointer(rebasing: pointers[$0][0..<owned[$0].count]) }, into: &output)
            return String(decoding: output, as: UTF8.self)
        }
        #expect(render(["Ada", "AB1", "5", "yes", "es"]) == "Hola Ada (5)")
        #expect(render(["Ada", "AB1", "5", "yes", "fr"]) == "Hi Ada!")
        #expect(throws: TemplateError.unknownPlaceholder("nmae", declared: ["name", "code", "points", "vip"], field: "language.variants.es")) {
            try Template(id: "t", channel: .sms, variables: Self.variables,
                         variants: [Template.Variant(body: try TemplateBody(parsing: "<name>")),
                                    Template.Variant(body: try TemplateBody(parsing: "<nmae>"))],
                         languages: TemplateLanguages(column: "lang", codes: ["en", "es"], defaultIndex: 0))
        }
        let error = #expect(throws: BindingError.self) { try template.bind(columns: ["name", "code"]) }
        #expect(error?.description.contains("language column \"lang\" is not a column") == true)
    }

    @Test(arguments: [(" Yes ", "true"), ("TRUE", "true"), ("1", "true"), ("\tno", "false"), ("False ", "false"), ("0", "false"),
                      ("yes no", nil), ("yess", nil), ("sí", nil), ("truetruetrue", nil), ("2", nil)] as [(String, String?)])
    func booleansReadEveryWayTheyAreWritten(cell: String, expected: String?) throws {
        let result = try render(["name": "Ada", "code": "AB1", "vip": cell], body: "<vip>")
        switch result {
        case .success(let text): #expect(text == expected)
        case .failure(let problem): #expect(expected == nil && problem.column == "vip", "\(problem)")
        }
    }
}
