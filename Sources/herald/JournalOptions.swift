import ArgumentParser
import Foundation

/// `--journal`, shared by every command that reads or writes the journal.
struct JournalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Journal file (SQLite). Default: $HERALD_JOURNAL, else .herald/journal.sqlite.", valueName: "path"))
    var journal: String?

    var path: String {
        if let journal { return journal }
        if let fromEnvironment = ProcessInfo.processInfo.environment["HERALD_JOURNAL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return ".herald/journal.sqlite"
    }
}
