import ArgumentParser
import Foundation
import HeraldEngine
import HeraldJournal

/// `herald purge ID`: data retention. A finished campaign's phone numbers and message
/// bodies are removed for good; its counts, reasons and spend stay for `status`.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove a finished campaign's numbers and message bodies for good; keep its counts and spend.",
        discussion: "Only a completed or cancelled campaign (exit 3 otherwise). Its receipts' raw bodies go too. "
            + "A SQLite journal is then vacuumed, so the removed values are gone from the file; on PostgreSQL, VACUUM frees "
            + "their space (the server's WAL and backups keep them as long as its own retention says).")

    @Argument(help: "Campaign id (ID@simulation or ID@dry-run for a rehearsal's rows).")
    var campaign: String

    @Flag(help: "Skip the VACUUM (values are still overwritten in place, but freed pages may keep old bytes).")
    var noVacuum = false

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let journal = try JournalOpener.retention(self.journal.path)
            let key = CampaignKey(parsing: campaign)
            guard let record = try journal.campaign(id: key.id, mode: key.mode) else {
                throw JournalError.unknownCampaign(campaign, path: journal.location)
            }
            guard let rows = try journal.purge(cid: record.cid, vacuum: !noVacuum) else {
                Terminal.error("\(record.name) is \(record.state.rawValue): only a completed or cancelled campaign can be purged")
                throw ExitCode(ExitStatus.invalidInput.rawValue)
            }
            print("\(record.name): numbers and message bodies of \(Terminal.count(rows, "row")) removed; counts and spend kept")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
