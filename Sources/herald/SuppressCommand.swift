import ArgumentParser
import Foundation
import HeraldEngine
import HeraldCore
import HeraldProviders
import HeraldJournal

/// `herald suppress`: the journal's list of numbers never to message (opted out, or
/// added by hand); checked when each row is claimed, so changes reach running campaigns.
struct SuppressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "Manage the suppression list: numbers no campaign in this journal sends to.",
        subcommands: [Add.self, Remove.self, Import.self, Export.self, List.self, Check.self, Sync.self])

    /// What every subcommand that names numbers shares.
    struct NumberOptions: ParsableArguments {
        @Option(help: "Only for this sender (AWS origination_identity, Agile agent_id, v5 source); default: every sender.")
        var scope: String = ""

        @Option(help: "ISO 3166 country for numbers written without +/00 (as a campaign's default_country).")
        var defaultCountry: String?

        func validate() throws {
            if let country = defaultCountry, country.count != 2 || !country.allSatisfy(\.isLetter) {
                throw ValidationError("--default-country: \(country.quoted) is not an ISO 3166 alpha-2 code such as GB")
            }
            if scope.count > 256 || scope.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw ValidationError("--scope: \(scope.quoted) is not a sender id")
            }
        }

        var country: String? { defaultCountry?.uppercased() }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add numbers to the list.")
        @Argument(help: "Phone numbers (E.164, or national with --default-country).") var numbers: [String]
        @Option(help: "Why (kept with each number).") var reason: String?
        @OptionGroup var options: NumberOptions
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                let digits = try SuppressionList.numbers(numbers, defaultCountry: options.country)
                let journal = try JournalOpener.suppression(journal.path)
                let now = journal.currentTime()
                let added = try journal.suppress(digits.map {
                    SuppressionEntry(destination: $0, scope: options.scope, reason: reason, source: .manual, addedAt: now)
                })
                print("\(added) added, \(digits.count - added) already listed")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove numbers from the list (for --scope, or for every sender).")
        @Argument(help: "Phone numbers.") var numbers: [String]
        @OptionGroup var options: NumberOptions
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                let digits = try SuppressionList.numbers(numbers, defaultCountry: options.country)
                let removed = try JournalOpener.suppression(journal.path, create: false).unsuppress(digits, scope: options.scope)
                print("\(removed) removed, \(digits.count - removed) were not listed")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add every number of a CSV (a phone column; optional reason and date columns). One bad row adds nothing.")
        @Argument(help: "CSV file with a header row.") var file: String
        @Option(help: "Column of phone numbers.") var phoneColumn = "phone"
        @Option(help: "Column of reasons, if present.") var reasonColumn = "reason"
        @Option(help: "Column of dates (ISO 8601), if present.") var dateColumn = "date"
        @OptionGroup var options: NumberOptions
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                var columns = SuppressionList.Columns()
                columns.phone = phoneColumn
                columns.reason = reasonColumn
                columns.date = dateColumn
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let (rows, added) = try SuppressionList.importCSV(file, into: try JournalOpener.suppression(journal.path), columns: columns,
                                                                  scope: options.scope, defaultCountry: options.country, now: now)
                print("\(file): \(rows) rows, \(added) added, \(rows - added) already listed")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the list as CSV: phone,scope,reason,source,added_at.")
        @Argument(help: "CSV file to write.") var file: String
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                let count = try SuppressionList.export(try JournalOpener.suppression(journal.path, create: false), to: file)
                print("\(file): \(count) numbers")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the list (numbers in order).")
        @Option(help: "At most this many numbers.") var limit = 1000
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                let journal = try JournalOpener.suppression(journal.path, create: false)
                let total = try journal.suppressionCount()
                for entry in try journal.suppressions(after: nil, limit: max(0, limit)) { print(Suppress.line(entry)) }
                print("\(total) numbers on the list" + (total > limit ? " (first \(limit) shown; `export` writes all)" : ""))
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether a number is listed (exit 0 either way; the line says which).")
        @Argument(help: "Phone number.") var number: String
        @OptionGroup var options: NumberOptions
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try Suppress.perform {
                let digits = try SuppressionList.numbers([number], defaultCountry: options.country)[0]
                let entries = try JournalOpener.suppression(journal.path, create: false).suppression(of: digits)
                print(entries.isEmpty ? "+\(digits): not listed" : entries.map(Suppress.line).joined(separator: "\n"))
            }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add every number of the campaign's AWS opt-out list (provider.opt_out_list, DescribeOptedOutNumbers).")
        @Argument(help: "Campaign file (YAML) with provider.kind: aws and opt_out_list.") var file: String
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            do {
                let (listed, added) = try await SuppressionList.sync(campaignPath: file, journalPath: journal.path)
                print("\(listed) numbers on the AWS opt-out list, \(added) added")
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(error is AWSCallError ? 1 : ExitStatus(for: error).rawValue)
            }
        }
    }
}

enum Suppress {
    static func perform(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failed as SuppressionImportFailed {
            Terminal.error("\(failed)")
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }

    static func line(_ entry: SuppressionEntry) -> String {
        let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(entry.addedAt) / 1000))
        return "+\(entry.destination)  \(entry.scope.isEmpty ? "every sender" : "sender \(entry.scope.printable)")  \(entry.source.rawValue)  "
            + when + (entry.reason.map { "  \($0.printable)" } ?? "")
    }
}
