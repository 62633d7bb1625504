import Testing
import HeraldCore

/// Text from outside shown on a terminal or in a log (issue 21, finding 6).
@Suite struct PrintableTextTests {
    @Test(arguments: [
        ("plain text, café", "plain text, café"),
        ("\u{1B}[31mred", "\\u001b[31mred"),
        ("line\nforged", "line\\u000aforged"),
        ("carriage\rreturn\ttab", "carriage\\u000dreturn\\u0009tab"),
        ("del\u{7F} c1\u{9B}", "del\\u007f c1\\u009b"),
        ("bidi \u{202E}txt.exe", "bidi \\u202etxt.exe"),
        ("sep\u{2028}arator", "sep\\u2028arator"),
    ])
    func controlsAreShownAsEscapes(text: String, shown: String) {
        #expect(text.printable == shown)
    }

    @Test func linesKeepTheirNewlinesAndTabs() {
        #expect("one\n\ttwo\u{1B}[2J".printableLines == "one\n\ttwo\\u001b[2J")
        // Still valid inside a JSON string: the escape is JSON's own.
        #expect("{\"code\":\"a\u{85}b\"}".printableLines == "{\"code\":\"a\\u0085b\"}")
    }

    /// Issue 36, finding 3: CSV cells from outside carry no control character and no formula.
    @Test(arguments: [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("=1+2", "\"'=1+2\""), ("+1", "\"'+1\""), ("-5", "\"'-5\""), ("@SUM(A1)", "\"'@SUM(A1)\""),
        ("line\nbreak", "line\\u000abreak"), ("\u{1B}[31mred\u{7}", "\\u001b[31mred\\u0007"), ("\r=1", "\\u000d=1"),
        ("", ""),
    ] as [(String, String)])
    func csvCellsAreInert(text: String, cell: String) {
        #expect(CSVCell.text(text) == cell)
    }
}
