import Foundation
import HeraldCSV
import HeraldCore
import HeraldSettings
import HeraldProviders
import HeraldJournal
import HeraldSQLite

/// What the `herald suppress` commands read and write: numbers normalised to E.164
/// exactly as recipients are, checked all together before the list changes.
public enum SuppressionList {
    /// Numbers given on the command line; any bad one is an error naming its argument
    /// (never quoting the number) and nothing is added.
    public static func numbers(_ texts: [String], defaultCountry: String?) throws(InputError) -> [UInt64] {
        var numbers: [UInt64] = []
        var problems: [String] = []
        for (index, text) in texts.enumerated() {
            do {
                numbers.append(try PhoneNumber.parse(Array(text.utf8), defaultRegion: defaultCountry).digits)
            } catch {
                problems.append("number \(index + 1) of \(texts.count): \(hint(error))")
            }
        }
        guard problems.isEmpty else {
            throw InputError(file: "command line", problems.joined(separator: "; ") + "; nothing was changed")
        }
        return numbers
    }

    /// The columns of a suppression CSV.
    public struct Columns: Sendable {
        public var phone = "phone"
        public var reason: String? = "reason"
        public var date: String? = "date"
        public init() {}
    }

    /// Adds every row of a CSV of numbers (a phone column; reason and date columns when
    /// present) in one transaction, reading the file as a stream. Any bad row is an error
    /// naming file, line and column (the first 20 are listed), and then nothing is added.
    /// Returns (rows read, numbers new to the list).
    public static func importCSV(_ path: String, into journal: any SuppressionJournal, columns: Columns = Columns(), scope: String,
                                 defaultCountry: String?, now: Int64) throws -> (rows: Int, added: Int) {
        let reader: CSVReader
        do {
            reader = try CSVReader(path: path)
        } catch {
            throw InputError(error)
        }
        guard let phone = reader.header.firstIndex(of: columns.phone) else {
            throw InputError(file: path, line: reader.headerLine,
                             "no column \(columns.phone.quoted) (columns: \(RecipientScanner.list(reader.header))); name it with --phone-column")
        }
        let reason = columns.reason.flatMap { reader.header.firstIndex(of: $0) }
        let date = columns.date.flatMap { reader.header.firstIndex(of: $0) }
        var rows = 0
        var problems: [String] = []
        let dates = ISO8601DateFormatter()
        let days = ISO8601DateFormatter()
        days.formatOptions = [.withFullDate]
        var csvError: CSVError?
        let added = try journal.suppressAll { add in
            do {
                try reader.forEachRecord { record in
                    rows += 1
                    func problem(_ column: String, _ text: String) {
                        problems.append("\(path):\(record.line): column \(column.quoted): \(text)")
                    }
                    do {
                        let number = try PhoneNumber.parse(record[phone], defaultRegion: defaultCountry)
                        var added = now
                        if let date, !record[date].isEmpty {
                            let text = record.string(date).trimmingSpaces
                            guard let when = dates.date(from: text) ?? days.date(from: text) else {
                                problem(reader.header[date], "\(text.quoted) is not an ISO 8601 date such as 2026-11-30")
                                return problems.count < 20
                            }
                            added = Int64(when.timeIntervalSince1970 * 1000)
                        }
                        let why = reason.map { record.string($0).trimmingSpaces }.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
                        if problems.isEmpty {
                            try add(SuppressionEntry(destination: number.digits, scope: scope, reason: why, source: .imported,
                                                     addedAt: added))
                        }
                    } catch let error as PhoneNumberError {
                        problem(columns.phone, hint(error))
                    }
                    return problems.count < 20
                }
            } catch let error as CSVError {
                csvError = error
                return false
            }
            return problems.isEmpty
        }
        if let csvError { throw InputError(file: csvError.path, line: csvError.line, csvError.descriptionWithoutPlace) }
        guard let added else { throw SuppressionImportFailed(problems: problems) }
        return (rows, added)
    }

    /// Writes every entry as `phone,scope,reason,source,added_at`; returns how many.
    public static func export(_ journal: any SuppressionJournal, to path: String) throws -> Int {
        guard let handle = try? PrivateFiles.create(path) else {
            throw InputError(file: path, "cannot create the file")
        }
        defer { try? handle.close() }
        var text = "phone,scope,reason,source,added_at\n"
        var after: (UInt64, String)?
        var count = 0
        let format = ISO8601DateFormatter()
        while true {
            let page = try journal.suppressions(after: after, limit: 10_000)
            for entry in page {
                // The scope is Herald's own E.164 sender (or empty); the reason may be a reply's words.
                text += "+\(entry.destination),\(entry.scope),\(csv(entry.reason ?? "")),\(entry.source.rawValue),"
                    + format.string(from: Date(timeIntervalSince1970: Double(entry.addedAt) / 1000)) + "\n"
            }
            try handle.write(contentsOf: Data(text.utf8))
            text = ""
            count += page.count
            guard let last = page.last else { break }
            after = (last.destination, last.scope)
        }
        return count
    }

    /// A number's problem, worded for these commands (they take --default-country).
    static func hint(_ error: any Error) -> String {
        "\(error)".replacingOccurrences(of: "the campaign sets no default_country", with: "no --default-country was given")
    }

    /// A CSV field: control characters escaped, formulas neutralised, quoted when it needs to be.
    static func csv(_ text: String) -> String { CSVCell.text(text) }
}

/// Rows of a suppression CSV that cannot be read; nothing was added.
public struct SuppressionImportFailed: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String {
        problems.joined(separator: "\n") + "\n\(problems.count >= 20 ? "20 or more" : String(problems.count)) rows cannot be read; nothing was added"
    }
}

extension SuppressionList {
    /// `herald suppress sync`: every number on the AWS opt-out list the campaign names
    /// (`provider.opt_out_list`) joins the local list. Returns (listed at AWS, new here).
    public static func sync(campaignPath: String, journalPath: String,
                            environment: AWSEnvironment = AWSEnvironment()) async throws -> (listed: Int, added: Int) {
        let plan = try CampaignPlan.load(campaignPath: campaignPath)
        let aws = plan.spec.settings(of: AWSConfiguration.self)
        guard !aws.isEmpty else {
            throw InputError(file: plan.spec.campaignPath, "provider: `herald suppress sync` needs provider.kind: aws")
        }
        // With several AWS providers, the first that names an opt-out list.
        guard let configuration = aws.first(where: { $0.optOutList != nil }) ?? aws.first, let list = configuration.optOutList else {
            throw InputError(file: plan.spec.campaignPath, "provider: set opt_out_list to the AWS opt-out list to read")
        }
        let transport = AsyncHTTPClientTransport(maxConnections: 1)
        let provider: AWSProvider
        do {
            provider = try AWSProvider(configuration: configuration, environment: environment, transport: transport)
        } catch {
            await transport.shutdown()
            throw InputError(file: plan.spec.campaignPath, "provider: \(error)")
        }
        let listed: [(number: String, optedOutAt: Double)]
        do {
            listed = try await provider.describeOptedOutNumbers(list: list)
            await provider.shutdown()
        } catch {
            await provider.shutdown()
            throw error
        }
        var entries: [SuppressionEntry] = []
        for item in listed {
            // AWS lists E.164 numbers; one it cannot be read as such is left out, not guessed at.
            guard let number = try? PhoneNumber.parse(Array(item.number.utf8)) else { continue }
            entries.append(SuppressionEntry(destination: number.digits, reason: "AWS opt-out list \(list)", source: .sync,
                                            addedAt: Int64(item.optedOutAt * 1000)))
        }
        let added = try JournalOpener.suppression(journalPath).suppress(entries)
        return (listed.count, added)
    }
}
