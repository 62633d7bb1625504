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
    func render(_ row: [String: String], columns: [String] = ["phone", "name", "code", "points", "vip"]) throws
        -> Result<String, RowProblem>
    {
        let renderer = try template().bind(columns: columns)
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
}
