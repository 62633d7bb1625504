import ArgumentParser
import Foundation
import HeraldEngine

struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Cost, parts and budget stops of a campaign, offline: nothing is sent or written to the journal.")

    @Argument(help: "Campaign file (YAML).")
    var file: String

    @Flag(help: "Print the estimate as JSON (amounts as decimal strings, USD).")
    var json = false

    @Option(help: ArgumentHelp("Also write one CSV line per recipient: row, country, encoding, parts, price, status.",
                               valueName: "csv"))
    var perRecipient: String?

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let plan = try CampaignPlan.load(campaignPath: file)
            let estimate = try plan.estimate(journalPath: journal.path, perRecipient: perRecipient)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(estimate), as: UTF8.self))
            } else {
                print(Output.estimate(estimate, recipients: plan.spec.recipientsPath))
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
