import ArgumentParser
import Foundation
import HeraldJournal

/// `--journal`, shared by every command that reads or writes the journal.
struct JournalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Journal: a SQLite file, or postgres://user@host:5432/db (password from the URL, $PGPASSWORD or ~/.pgpass; ?sslmode=, ?lease_timeout=). Default: $HERALD_JOURNAL, else .herald/journal.sqlite.",
        valueName: "path-or-url"))
    var journal: String?

    var path: String {
        if let journal { return journal }
        if let fromEnvironment = ProcessInfo.processInfo.environment["HERALD_JOURNAL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return ".herald/journal.sqlite"
    }

    /// The journal as messages show it: never a password.
    var shown: String { (try? JournalLocation(parsing: path))?.description ?? path }
}
