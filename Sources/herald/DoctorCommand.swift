import ArgumentParser
import Foundation
import HeraldEngine
import HeraldJournal
import HeraldSQLite

/// `herald doctor ID`: recounts a campaign's rows and compares them with the counters
/// that `status`, `resume` and the worker read, so drift never goes unnoticed. Both stores.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check a campaign's counters against its rows (a full scan); --repair rebuilds them.",
        discussion: """
            Exit 0 when counters and rows agree (or were repaired), or the campaign's import never finished (the next \
            run redoes it); 10 when they disagree. Also reports a journal \
            folder or file other users can read (it holds full numbers); --repair makes them 0700 and 0600.
            """)

    @Argument(help: "Campaign id (ID@simulation or ID@dry-run for a rehearsal's progress).")
    var campaign: String

    @Flag(help: "Rebuild the counters from the rows when they disagree.")
    var repair = false

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let journal = try JournalOpener.maintenance(self.journal.path)
            let key = CampaignKey(parsing: campaign)
            guard let record = try journal.campaign(id: key.id, mode: key.mode) else {
                throw JournalError.unknownCampaign(campaign, path: journal.location)
            }
            // Files and their modes: a SQLite journal's; a PostgreSQL server keeps its own.
            if let file = journal as? Journal { checkModes(file) }
            // An import cut short (its sender stopped while writing rows) is no drift: its
            // counters are written as it finishes, and the next run redoes it from scratch.
            guard record.state != .importing else {
                print("\(record.name): import unfinished (its sender stopped while writing rows); "
                    + "`herald run` or `herald resume` imports it again from the start")
                return
            }
            let drift = try journal.checkCounters(cid: record.cid)
            if drift.isEmpty {
                let counts = try journal.counts(cid: record.cid)
                print("\(record.name): counters match the rows (\(Terminal.count(counts.total, "row")))")
                return
            }
            for item in drift { print("\(record.name): \(item)") }
            guard repair else {
                Terminal.error("counters disagree with the rows; `herald doctor \(record.name) --repair` rebuilds them")
                throw ExitCode(ExitStatus.counterDrift.rawValue)
            }
            try journal.repairCounters(cid: record.cid)
            let left = try journal.checkCounters(cid: record.cid)
            guard left.isEmpty else {
                for item in left { Terminal.error("after repair: \(item)") }
                throw ExitCode(ExitStatus.counterDrift.rawValue)
            }
            print("\(record.name): counters rebuilt from the rows")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }

    /// Loose modes on the journal's folder and files: reported, tightened with --repair.
    private func checkModes(_ journal: Journal) {
        for file in journal.privateFiles where PrivateFiles.isLoose(file) {
            let mode = PrivateFiles.mode(file)
            if repair, PrivateFiles.tighten(file) {
                print("\(file): was readable by other users (\(mode)); now \(PrivateFiles.mode(file))")
            } else {
                print("\(file): readable by other users (\(mode)); `herald doctor \(campaign) --repair` makes it private")
            }
        }
    }
}
