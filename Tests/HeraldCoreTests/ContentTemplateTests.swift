import Foundation
import Testing
@testable import HeraldCore

/// Structured content compiled into a JSON document template and rendered row by row.
@Suite struct ContentTemplateTests {
    static let variables = [
        VariableSpec(name: "name", type: .string, required: true),
        VariableSpec(name: "code", type: .string, required: true),
        VariableSpec(name: "points", type: .integer, defaultValue: "0"),
    ]

    static let card = RCSContent(
        card: RCSCard(title: "Hi <name>", description: "Code <code>, <points> points",
                      media: RCSMedia(url: "https://example.com/<code>.jpg", height: "MEDIUM"),
                      suggestions: [RCSSuggestion(type: .reply, text: "Yes", postback: "yes-<code>")]),
        fallbackSMS: "Hi <name>, code <code>")

    func render(_ content: RCSContent, _ values: [String]) throws -> [UInt8] {
        let body = try ContentTemplate.compile(content, root: "rcs", declared: Self.variables.map(\.name))
        let template = try Template(id: "t", channel: .rcs, variables: Self.variables, body: body, layout: .rcs(content))
        let renderer = try template.bind(columns: ["name", "code", "points"])
        let cells = values.map { Array($0.utf8) }
        var output: [UInt8] = []
        let problem = cells[0].withUnsafeBufferPointer { a in
            cells[1].withUnsafeBufferPointer { b in
                cells[2].withUnsafeBufferPointer { c in
                    renderer.render(field: { [a, b, c][$0] }, into: &output)
                }
            }
        }
        #expect(problem == nil)
        return output
    }

    @Test func valuesAreJSONEscapedInsideStrings() throws {
        let name = "Ada \"the\" \\ Countess\n\t\u{1}é😀"
        let output = try render(Self.card, [name, "AB12", ""])
        let decoded = try #require(ContentJSON.decode(RCSContent.self, from: output))
        #expect(decoded.card?.title == "Hi \(name)")
        #expect(decoded.card?.description == "Code AB12, 0 points")
        #expect(decoded.card?.media?.url == "https://example.com/AB12.jpg")
        #expect(decoded.card?.suggestions?.first?.postback == "yes-AB12")
        #expect(decoded.fallbackSMS == "Hi \(name), code AB12")
    }

    @Test func escapedPlaceholderSyntaxStaysLiteral() throws {
        let content = RCSContent(text: #"5 \< 6 and a \\ backslash, "quoted" <name>"#)
        let decoded = try #require(ContentJSON.decode(RCSContent.self, from: try render(content, ["Ada", "AB12", "1"])))
        #expect(decoded.text == #"5 < 6 and a \ backslash, "quoted" Ada"#)
    }

    @Test func conditionsWorkInEveryTextOfACardAndItsFallback() throws {
        let content = RCSContent(
            card: RCSCard(title: "Hi <name><points? (<points> \"points\")>",
                          description: "<!points?No points yet.><points?Spend them \\ now.>",
                          suggestions: [RCSSuggestion(type: .reply, text: "<points?Redeem><!points?Join>", postback: "p-<code>")]),
            fallbackSMS: "Hi <name><points?, <points> points>.")
        let withPoints = try #require(ContentJSON.decode(RCSContent.self, from: try render(content, ["Ada", "AB12", "7"])))
        #expect(withPoints.card?.title == #"Hi Ada (7 "points")"#)
        #expect(withPoints.card?.description == #"Spend them \ now."#)
        #expect(withPoints.card?.suggestions?.first?.text == "Redeem")
        #expect(withPoints.fallbackSMS == "Hi Ada, 7 points.")
        // points defaults to 0, which is a value: the condition holds.
        let defaulted = try #require(ContentJSON.decode(RCSContent.self, from: try render(content, ["Bo", "AB12", ""])))
        #expect(defaulted.card?.title == #"Hi Bo (0 "points")"#)
        #expect(throws: TemplateError.unknownPlaceholder("gold", declared: ["name", "code", "points"], field: "rcs.text")) {
            try ContentTemplate.compile(RCSContent(text: "<name><gold?x>"), root: "rcs", declared: Self.variables.map(\.name))
        }
        #expect(throws: TemplateError.unclosedCondition(column: 3, field: "fallback_sms")) {
            try ContentTemplate.compile(RCSContent(text: "x", fallbackSMS: "a <name?b"), root: "rcs", declared: ["name"])
        }
    }

    @Test func anUnknownPlaceholderNamesItsField() {
        let content = RCSContent(card: RCSCard(title: "ok", suggestions: [RCSSuggestion(type: .reply, text: "Hi <nmae>")]))
        #expect(throws: TemplateError.unknownPlaceholder("nmae", declared: ["name", "code", "points"],
                                                         field: "rcs.card.suggestions[0].text")) {
            try ContentTemplate.compile(content, root: "rcs", declared: Self.variables.map(\.name))
        }
        #expect(throws: TemplateError.malformedPlaceholder(column: 4, field: "fallback_sms")) {
            try ContentTemplate.compile(RCSContent(text: "x", fallbackSMS: "Hi <1>"), root: "rcs", declared: [])
        }
    }
}

/// Each provider's rules, on rendered content and on templates before any row.
