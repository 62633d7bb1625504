import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldJournal
import HeraldReport

struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show rows as they would be sent (message, encoding, parts, cost, provider) or why they would be skipped; sends nothing.")

    @Argument(help: "Campaign file (YAML).")
    var file: String

    @Option(help: ArgumentHelp("CSV lines to show, comma-separated (the header is line 1).", valueName: "2,17,40"))
    var rows: String?

    @Option(help: "Show this many rows, chosen to cover every country, provider, language, encoding and outcome present.")
    var sample = 3

    @Option(help: ArgumentHelp("Also write a self-contained HTML page drawing each message as a phone shows it.", valueName: "file"))
    var html: String?

    @Flag(help: "Print the preview as JSON (amounts as decimal strings, USD).")
    var json = false

    @OptionGroup var journal: JournalOptions

    func validate() throws {
        if rows != nil, Self.lines(rows ?? "") == nil {
            throw ValidationError("--rows takes CSV line numbers from 2 up, comma-separated (2,17,40)")
        }
        guard (1...1_000).contains(sample) else { throw ValidationError("--sample takes 1 to 1000 rows") }
    }

    static func lines(_ text: String) -> [Int]? {
        let lines = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !lines.isEmpty, lines.count <= 1_000, lines.allSatisfy({ ($0 ?? 0) >= 2 }) else { return nil }
        return lines.compactMap { $0 }
    }

    func run() async throws {
        do {
            let plan = try CampaignPlan.load(campaignPath: file)
            let preview = try plan.preview(lines: rows.flatMap(Self.lines), sample: sample, journalPath: journal.path)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(preview), as: UTF8.self))
            } else {
                print(Output.preview(preview))
            }
            if let html {
                let file = try PrivateFiles.create(html)
                try file.write(contentsOf: Data(try PreviewPage.html(preview).utf8))
                try file.close()
                Terminal.note("preview page: \(html)")
            }
        } catch let error as PreviewError {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}

extension Output {
    static func preview(_ preview: Preview) -> String {
        let f = Terminal.format
        var lines = ["\(preview.campaign): \(preview.rows.count) of \(Terminal.count(preview.total, "row"))"
            + (preview.chosenBy == "sample" ? " (a sample covering each country, provider, language, encoding and outcome; --rows 2,17 picks rows)" : "")]
        for row in preview.rows {
            var head = "line \(row.line)"
            if let phone = row.phone { head += "  \(phone)" + (row.country.map { " (\($0))" } ?? "") }
            if let language = row.language { head += "  in \(language)" }
            if row.status == "send" {
                if let provider = row.provider { head += "  via \(provider)" }
                if let sender = row.sender { head += " from \(sender)" }
            } else {
                head += "  skipped: \(row.status)" + (row.detail.map { ": \($0)" } ?? "")
            }
            lines.append(head)
            guard row.status == "send" || row.status == Reason.filtered.rawValue, let body = row.body else { continue }
            if let parts = row.partTexts, parts.count > 1 {
                for (index, part) in parts.enumerated() {
                    lines.append("  │ part \(index + 1)/\(parts.count): " + part.replacingOccurrences(of: "\n", with: "\n  │   "))
                }
            } else {
                lines += Self.drawn(body, channel: row.channel).map { "  │ " + $0 }
            }
            guard row.status == "send" else { continue }
            var facts: [String] = []
            if let encoding = row.encoding {
                facts.append("SMS \(encoding)")
                if let characters = row.characters { facts.append(Terminal.count(characters, "character")) }
                if let parts = row.parts { facts.append(Terminal.count(parts, "part")) }
            } else {
                facts.append(row.channel)
            }
            if let cost = row.cost, cost > .zero { facts.append("$\(cost)") }
            lines.append("  " + facts.joined(separator: ", "))
            _ = f
        }
        return lines.joined(separator: "\n")
    }

    /// A rendered message as lines a terminal shows: the text; for RCS each card's title,
    /// description, media and buttons, then the SMS fallback; MMS with its media.
    static func drawn(_ body: String, channel name: String) -> [String] {
        guard let channel = Channel(rawValue: name), let content = MessageContent(stored: body, channel: channel) else {
            return body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        func chips(_ suggestions: [RCSSuggestion]?) -> [String] {
            guard let suggestions, !suggestions.isEmpty else { return [] }
            return [suggestions.map { "[\($0.text)]" }.joined(separator: " ")]
        }
        func card(_ card: RCSCard, _ heading: String) -> [String] {
            var lines = [heading + (card.title ?? "")]
            if let description = card.description { lines.append("  " + description) }
            if let media = card.media { lines.append("  (media \(media.url))") }
            return lines + chips(card.suggestions).map { "  " + $0 }
        }
        switch content {
        case .text(let text): return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        case .mms(let mms): return (mms.body.map { [$0] } ?? []) + mms.mediaURLs.map { "(media \($0))" }
        case .voice(let voice): return ["(\(voice.textType)) " + voice.body]
        case .notify(let notify):
            return ["template \(notify.templateID ?? "-")"] + notify.variables.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }
        case .rcs(let rcs):
            var lines: [String] = []
            if let text = rcs.text { lines.append(text) }
            if let media = rcs.media { lines.append("(media \(media.url))") }
            if let template = rcs.templateID { lines.append("provider template \(template)") }
            if let one = rcs.card { lines += card(one, "card: ") }
            if let carousel = rcs.carousel {
                for (index, each) in carousel.cards.enumerated() { lines += card(each, "card \(index + 1)/\(carousel.cards.count): ") }
            }
            lines += chips(rcs.suggestions)
            if let fallback = rcs.fallbackSMS { lines.append("SMS fallback: " + fallback) }
            return lines
        }
    }
}
