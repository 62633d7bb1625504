import Foundation
import HeraldCore
import HeraldCSV
import HeraldEngine
import HeraldJournal
import HeraldProviders
import HeraldSQLite

/// Every parser of outside input, as a fuzz target: bytes in, and whatever they hold,
/// nothing traps, and what a parser accepts is inside the ranges the journal's readers
/// assume (event times in `JSONTree.eventTimes`, prices 0 to `Money.largestPrice`). A
/// broken property is a `fatalError`, which libFuzzer reports as a crash with its input.
///
/// - libFuzzer: `Fuzz/run TARGET [SECONDS]` (the `Fuzz` package, built with
///   `-sanitize=fuzzer,address`), corpus in `Fuzz/Corpus/TARGET`.
/// - The test suite replays every corpus file through `run` (`FuzzCorpusTests`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// AWS End User Messaging event records, as Firehose writes them to S3 (`receipts import`).
    case awsEvents = "aws-events"
    /// An SNS message posted to the receiver, and the event record inside it.
    case sns
    /// An Agile Telecom callback body.
    case agile
    /// A `/v5/messages` callback body.
    case v5
    /// A Twilio status callback (form-encoded), and its signature over the fields.
    case twilio
    /// A recipient CSV, every field of every record read as validation reads it.
    case csv
    /// A campaign YAML file.
    case campaign
    /// A template YAML file, and a template body.
    case template
    /// A price book CSV.
    case prices
    /// The parse-then-record path: the input as a receipts file imported into a scratch
    /// journal, and as Agile and v5 callbacks recorded in it; the journal's counters must
    /// still equal its rows.
    case receiptJournal = "receipt-journal"

    /// Feeds `input` to the target's parser.
    public func run(_ input: [UInt8]) {
        switch self {
        case .awsEvents:
            try? AWSEventRecords.read(input, rejected: { _ in }) { Self.check($0, input) }
        case .sns:
            guard let message = try? SNSMessage(body: input) else { return }
            _ = message.stringToSign
            _ = SNSMessage.isSNSURL(message.signingCertURL)
            if let url = message.subscribeURL { _ = SNSMessage.isSNSURL(url) }
            if let tree = JSONTree.parse(Array(message.message.utf8)),
               let event = try? AWSEventRecords.event(tree, raw: message.message) {
                Self.check(event, input)
            }
        case .agile:
            for event in (try? AgileReceipts.events(body: input)) ?? [] { Self.check(event, input) }
        case .v5:
            for event in (try? V5Receipts.events(body: input, campaign: "c", row: 2)) ?? [] { Self.check(event, input) }
            for event in (try? V5Receipts.events(body: input, campaign: nil, row: nil)) ?? [] { Self.check(event, input) }
        case .twilio:
            for event in (try? TwilioReceipts.events(body: input, campaign: "c", row: 2)) ?? [] { Self.check(event, input) }
            for event in (try? TwilioReceipts.events(body: input, campaign: nil, row: nil)) ?? [] { Self.check(event, input) }
            if let fields = FormEncoding.decode(input) {
                _ = TwilioReceipts.signature(url: "https://receipts.example/receipts/twilio/t", fields: fields, authToken: "t")
                if FormEncoding.decode(FormEncoding.encode(fields))?.elementsEqual(fields, by: { $0 == $1 }) != true {
                    fatalError("form fields do not survive encoding: \(String(decoding: input, as: UTF8.self))")
                }
            }
        case .csv:
            guard let path = Scratch.shared.write(input, as: "recipients.csv"),
                  let reader = try? CSVReader(path: path) else { return }
            try? reader.forEachRecord { record in
                for index in 0...max(record.count, reader.header.count) { _ = record[index].count }
                return true
            }
        case .campaign:
            guard let path = Scratch.shared.write(input, as: "campaign.yaml") else { return }
            _ = try? CampaignSpec.load(path: path)
        case .template:
            guard let path = Scratch.shared.write(input, as: "template.yaml") else { return }
            _ = try? TemplateFile.load(path: path)
            _ = try? TemplateBody(parsing: String(decoding: input, as: UTF8.self))
        case .prices:
            guard let path = Scratch.shared.write(input, as: "prices.csv"), let book = try? PriceBookFile.load(path: path) else {
                return
            }
            for price in book.allPrices where !price.isPrice {
                fatalError("a price book price out of range: \(price) from \(String(decoding: input, as: UTF8.self))")
            }
        case .receiptJournal:
            Scratch.shared.record(input)
        }
    }

    /// What every accepted event must hold.
    static func check(_ event: DeliveryEvent, _ input: [UInt8]) {
        if let at = event.at, !JSONTree.eventTimes.contains(at) {
            fatalError("accepted a time out of range (\(at)) from \(String(decoding: input, as: UTF8.self))")
        }
        if let price = event.price, !price.isPrice {
            fatalError("accepted a price out of range (\(price)) from \(String(decoding: input, as: UTF8.self))")
        }
    }
}

/// A folder of this process's own for the file parsers, and a scratch journal holding one
/// campaign (`c`) with sent rows the fuzzed receipts can match: by provider reference
/// (`aws-1`, `m-1`, `g-1`...) or by campaign and row.
final class Scratch: @unchecked Sendable {
    static let shared = Scratch()

    let folder: String
    private var journal: Journal?
    private var cid: Int64 = 0

    private init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-fuzz-\(getpid())-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
    }

    func write(_ input: [UInt8], as name: String) -> String? {
        let path = folder + "/" + name
        return FileManager.default.createFile(atPath: path, contents: Data(input)) ? path : nil
    }

    static let references = ["aws-1", "aws-2", "m-1", "m-2", "g-1", "g-2"]

    /// Records `input` as a receipts file and as callbacks; the counters must stay equal to the rows.
    func record(_ input: [UInt8]) {
        guard let journal = try? openJournal(), let file = write(input, as: "events.jsonl") else {
            fatalError("the scratch journal in \(folder) cannot be opened")
        }
        _ = try? ReceiptImport.run(files: [file], journalPath: folder + "/journal.sqlite")
        if let events = try? AgileReceipts.events(body: input) { _ = try? journal.recordReceipts(events) }
        if let events = try? V5Receipts.events(body: input, campaign: "c", row: 3) { _ = try? journal.recordReceipts(events) }
        if let events = try? TwilioReceipts.events(body: input, campaign: "c", row: 4) { _ = try? journal.recordReceipts(events) }
        do {
            let drift = try journal.checkCounters(cid: cid)
            if !drift.isEmpty { fatalError("counters drifted after \(String(decoding: input, as: UTF8.self)): \(drift)") }
            _ = try journal.counts(cid: cid)
            _ = try journal.ledger(cid: cid)
        } catch {
            fatalError("the journal cannot be read after \(String(decoding: input, as: UTF8.self)): \(error)")
        }
    }

    private func openJournal() throws -> Journal {
        if let journal { return journal }
        let journal = try Journal(path: folder + "/journal.sqlite")
        let owner = LeaseOwner()
        let inputs = CampaignInputs(id: "c", campaignPath: folder + "/c.yaml", templateSHA: "t", recipientsSHA: "r", channel: .sms)
        cid = try journal.open(inputs, owner: owner, recipientsPath: "r.csv", templatePath: "t.yaml", unpause: true).cid
        let importer = try journal.makeImporter(cid: cid)
        var body = Array("Hi".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<(Self.references.count + 2) {
                var row = ImportedRow(row: index + 2, destination: 15_550_100 + UInt64(index) + 10_000_000_000, region: "US",
                                      body: UnsafeBufferPointer(buffer))
                row.cost = 7_500_000
                try importer.add(row)
            }
        }
        _ = try importer.finish()
        var cursor = ClaimCursor()
        let claimed = try journal.step(cid: cid, owner: owner, settle: [], claim: Self.references.count, cursor: &cursor,
                                       budget: nil, gate: nil, sender: "", rate: nil).claimed
        let sent = zip(claimed, Self.references).map { claim, reference in
            Settlement(row: claim.row, state: .sent, providerRef: reference).settling(claim)
        }
        _ = try journal.step(cid: cid, owner: owner, settle: sent, claim: 0, cursor: &cursor, budget: nil, gate: nil, sender: "",
                             rate: nil)
        try journal.release(cid: cid, owner: owner, state: .stopped)
        self.journal = journal
        return journal
    }
}
