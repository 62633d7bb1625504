import ArgumentParser
import Foundation
import HeraldEngine
import HeraldPostgres
import HeraldJournal

/// `herald journal copy`: moving up from a SQLite journal to a PostgreSQL one.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Move campaigns between journals.", subcommands: [Copy.self])

    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy campaigns, with their progress, ledger and receipts, from a SQLite journal to PostgreSQL.",
            discussion: """
                Each campaign is copied in one transaction (all of it or nothing); the suppression list comes along. \
                A campaign already in the PostgreSQL journal is left as it is there; one being sent (a live sender, rows \
                in flight) is refused (exit 5): stop it first. Afterwards run or resume it with --journal postgres://...
                """)

        @Option(help: ArgumentHelp("The SQLite journal file to copy from.", valueName: "path"))
        var from: String

        @Option(help: ArgumentHelp("The PostgreSQL journal: postgres://user@host:5432/db.", valueName: "url"))
        var to: String

        @Option(name: .customLong("campaign"), help: ArgumentHelp("Copy only this campaign (repeatable; ID@simulation for a rehearsal).",
                                                                  valueName: "id"))
        var campaigns: [String] = []

        func run() throws {
            do {
                guard case .sqlite(let path) = try JournalLocation(parsing: from) else {
                    throw ValidationError("--from must name a SQLite journal file")
                }
                guard case .postgres(let target) = try JournalLocation(parsing: to) else {
                    throw ValidationError("--to must be a PostgreSQL URL (postgres://user@host:5432/db)")
                }
                let source = try JournalOpener.sqlite(path, for: "the source of herald journal copy", create: false)
                let destination = try PostgresJournal(target: target)
                let wanted = Set(campaigns.map { CampaignKey(parsing: $0) })
                let records = try source.campaigns().filter { wanted.isEmpty || wanted.contains($0.key) }
                let unknown = wanted.subtracting(records.map(\.key))
                if let missing = unknown.first { throw JournalError.unknownCampaign(missing.description, path: path) }
                var refused = false
                var withList = true
                for record in records {
                    let copied = Result { () throws(JournalError) -> Bool in try destination.copyCampaign(record, from: source, suppression: withList) }
                    switch copied {
                    case .success(true):
                        withList = false
                        print("\(record.name): copied (\(Terminal.count(record.totalRows, "row")), \(record.state.rawValue)) to \(target)")
                    case .success(false):
                        print("\(record.name): already in \(target); left as it is")
                    case .failure(let error) where error.isLeaseConflict:
                        refused = true
                        Terminal.error("\(record.name): being sent (a live sender or rows in flight); stop it, then copy again")
                    case .failure(let error):
                        throw error
                    }
                }
                if refused { throw ExitCode(ExitStatus.campaignBusy.rawValue) }
            } catch let exit as ExitCode {
                throw exit
            } catch let error as ValidationError {
                throw error
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(ExitStatus(for: error).rawValue)
            }
        }
    }
}
