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

    @Test func parsesConditionsWithPlaceholdersInside() throws {
        let body = try TemplateBody(parsing: "Hi<vip? gold <name>><!vip? (join)>.")
        #expect(body.segments == [
            .literal(Array("Hi".utf8)),
            .conditional("vip", negated: false, [.literal(Array(" gold ".utf8)), .placeholder("name")]),
            .conditional("vip", negated: true, [.literal(Array(" (join)".utf8))]),
            .literal(Array(".".utf8)),
        ])
        #expect(body.placeholders == ["vip", "name"])
    }

    @Test func aClosingBracketIsEscapedOnlyInsideACondition() throws {
        #expect(try TemplateBody(parsing: #"a \> b"#).segments == [.literal(Array(#"a \> b"#.utf8))])
        #expect(try TemplateBody(parsing: "a > b").segments == [.literal(Array("a > b".utf8))])
        #expect(try TemplateBody(parsing: #"<x?1 \> 0 \< 2 \\>"#).segments
            == [.conditional("x", negated: false, [.literal(Array(#"1 > 0 < 2 \"#.utf8))])])
    }

    @Test func conditionsNestToTheirLimit() throws {
        let four = "<a?1<b?2<c?3<d?4>>>>"
        let body = try TemplateBody(parsing: four)
        #expect(body.placeholders == ["a", "b", "c", "d"])
        #expect(throws: TemplateError.conditionTooDeep(column: 13)) { try TemplateBody(parsing: "<a?<b?<c?<d?<e?x>>>>>") }
    }

    @Test(arguments: [
        ("Hi <vip?gold", 4), ("<a?x<b?y>", 1), ("é <vip?", 3), ("<a?x> <b?y", 7),
    ])
    func unclosedConditionNamesWhereItOpened(text: String, column: Int) {
        #expect(throws: TemplateError.unclosedCondition(column: column)) { try TemplateBody(parsing: text) }
    }

    @Test(arguments: [
        ("<!name>", 1), ("<?x>", 1), ("<! x?y>", 1), ("ok <1a?x>", 4), ("<a?x <b c>>", 6), ("<a x>", 1),
    ])
    func malformedConditionNamesItsColumn(text: String, column: Int) {
        #expect(throws: TemplateError.malformedPlaceholder(column: column)) { try TemplateBody(parsing: text) }
    }
}
