import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldReport
import HeraldJournal
import HeraldSQLite

/// `herald report`: what happened to a campaign, as a page to forward, a CSV per
/// recipient, or JSON for scripts.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a campaign's report: a self-contained HTML page, a CSV line per recipient, or JSON.")

    @Argument(help: "Campaign id (ID@simulation, ID@dry-run for rehearsals).")
    var campaign: String

    @Option(help: ArgumentHelp("Write the report page (one HTML file, charts inline, nothing fetched).", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("Write one line per recipient (numbers masked unless --unmasked).", valueName: "file"))
    var csv: String?

    @Flag(help: "Print the report's aggregates as JSON on stdout.")
    var json = false

    @Flag(help: "Write full phone numbers in the CSV.")
    var unmasked = false

    @OptionGroup var journal: JournalOptions

    func validate() throws {
        guard html != nil || csv != nil || json else { throw ValidationError("name at least one of --html FILE, --csv FILE, --json") }
    }

    func run() async throws {
        do {
            let store = try JournalOpener.reporting(journal.path)
            let key = CampaignKey(parsing: campaign)
            guard let record = try store.campaign(id: key.id, mode: key.mode) else {
                throw JournalError.unknownCampaign(campaign, path: journal.path)
            }
            let facts = record.fileFacts
            let report = try CampaignReport.load(journal: store, record: record, provider: facts.providerName,
                                                  routes: facts.routeNames, languages: facts.languageCodes)
            if let html {
                let file = try PrivateFiles.create(html)
                try file.write(contentsOf: Data(ReportPage.html(report).utf8))
                try file.close()
                Terminal.note("report: \(html)")
            }
            if let csv {
                let rows = try RecipientCSV.write(journal: store, cid: record.cid, to: csv, unmasked: unmasked,
                                                  routes: facts.routeNames.map(\.name), languages: !facts.languageCodes.isEmpty)
                Terminal.note("recipients: \(csv) (\(rows) rows)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
