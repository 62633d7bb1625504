import Foundation
import HeraldCore
import HeraldProviders
import HeraldJournal
import HeraldSQLite

/// `herald receipts import`: AWS event records from Firehose/S3 files into the
/// journal. Reading (inflate, split, parse) runs on its own thread, writing on the
/// caller's, batches handed between them, so both cores work and memory stays at a
/// few batches whatever the files' size.
public enum ReceiptImport {
    public struct Result: Sendable {
        public var records = 0
        public var recorded = ReceiptBatchResult()
    }

    /// A file that stopped the import, and why; batches before it stay recorded.
    public struct Failure: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    static let batchSize = 4096

    public static func run(files: [String], journalPath: String) throws -> Result {
        let journal = try JournalOpener.sqlite(journalPath, for: "herald receipts import")
        var result = Result()
        for file in files {
            guard FileManager.default.isReadableFile(atPath: file) else { throw Failure(file: file, reason: "cannot read the file") }
            let batches = HandOff<[DeliveryEvent]>(capacity: 2)
            batches.startProducer { handOff in
                var batch: [DeliveryEvent] = []
                batch.reserveCapacity(batchSize)
                try AWSEventRecords.read(file: file) { event in
                    batch.append(event)
                    if batch.count == batchSize {
                        guard handOff.put(batch) else { throw ProducerCancelled() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = handOff.put(batch) }
            }
            do {
                while let batch = try batches.take() {
                    let recorded = try journal.recordReceipts(batch)
                    result.records += batch.count
                    result.recorded.matched += recorded.matched
                    result.recorded.unmatched += recorded.unmatched
                    result.recorded.settled += recorded.settled
                }
            } catch let error as ReceiptParseError {
                throw Failure(file: file, reason: error.description)
            } catch {
                batches.cancel()
                throw error
            }
        }
        return result
    }
}
