import Testing
@testable import HeraldCore

@Suite struct TemplateBodyTests {
    @Test func parsesLiteralsAndPlaceholders() throws {
        let body = try TemplateBody(parsing: "Hi <name>, code <code>.")
        #expect(body.segments == [
            .literal(Array("Hi ".utf8)), .placeholder("name"), .literal(Array(", code ".utf8)),
            .placeholder("code"), .literal(Array(".".utf8)),
        ])
        #expect(body.placeholders == ["name", "code"])
    }

    @Test func escapesGiveLiteralAngleBracketsAndBackslashes() throws {
        let body = try TemplateBody(parsing: #"a \<b> c \\ d"#)
        #expect(body.segments == [.literal(Array(#"a <b> c \ d"#.utf8))])
        #expect(body.placeholders.isEmpty)
    }

    @Test func repeatedPlaceholderIsListedOnce() throws {
        let body = try TemplateBody(parsing: "<a><a> <b_2>")
        #expect(body.placeholders == ["a", "b_2"])
    }

    @Test(arguments: [
        ("Hi <name", 4), ("a < b", 3), ("<>", 1), ("<1st>", 1), ("x <na me>", 3), ("é <", 3),
    ])
    func malformedPlaceholderNamesItsColumn(text: String, column: Int) {
        #expect(throws: TemplateError.malformedPlaceholder(column: column)) { try TemplateBody(parsing: text) }
    }
}
