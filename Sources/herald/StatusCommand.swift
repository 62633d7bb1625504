import ArgumentParser
import Foundation
import HeraldEngine

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show campaigns' progress: counts by state, skip reasons, rows in doubt.")

    @Argument(help: "Campaign id; all campaigns when omitted.")
    var campaign: String?

    @Flag(help: "Print JSON: one object for a campaign id, else {\"campaigns\": [...], \"unmatched_receipts\": {...}}.")
    var json = false

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let statuses = try CampaignStatus.load(journalPath: journal.path, id: campaign)
            // Receipts that named no message of this journal, by provider (all campaigns only).
            let unmatched = campaign == nil ? try CampaignStatus.unmatchedReceipts(journalPath: journal.path) : [:]
            let replies = campaign == nil ? try CampaignStatus.replies(journalPath: journal.path) : [:]
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data: Data
                if campaign != nil {
                    data = try encoder.encode(statuses[0])
                } else {
                    data = try encoder.encode(AllStatuses(campaigns: statuses, unmatchedReceipts: unmatched, replies: replies))
                }
                print(String(decoding: data, as: UTF8.self))
            } else if statuses.isEmpty {
                print("no campaigns in \(journal.shown)")
            } else {
                print(statuses.map(Output.status).joined(separator: "\n\n"))
            }
            if !json {
                for (label, counts) in [("receipts matching no message", unmatched), ("replies from recipients", replies)]
                where !counts.isEmpty {
                    print("\n\(label): " + counts.sorted { $0.key < $1.key }
                        .map { "\($0.key.printable) \(Terminal.format($0.value))" }.joined(separator: ", "))
                }
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}

private struct AllStatuses: Encodable {
    let campaigns: [CampaignStatus]
    let unmatchedReceipts: [String: Int]
    let replies: [String: Int]

    enum CodingKeys: String, CodingKey {
        case campaigns, replies
        case unmatchedReceipts = "unmatched_receipts"
    }
}
