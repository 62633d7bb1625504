import HeraldCore

/// Everything herald prints for a person goes through here, not `Swift.print`: text that came
/// from outside (a provider's detail, a receipt's code, a file's value) can carry escape
/// sequences that would act on the terminal, so every control character but newline and tab
/// is shown as its escape (issue 21, finding 6). JSON output is unchanged: its encoder has
/// escaped them already.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(items.map { "\($0)" }.joined(separator: separator).printableLines, terminator: terminator)
}
