import Foundation
import HeraldCore
import HeraldProviders
import HeraldJournal
import Synchronization

/// `herald receipts import`: AWS event records from Firehose/S3 files into the
/// journal. Reading (inflate, split, parse) runs on its own thread, writing on the
/// caller's, batches handed between them, so both cores work and memory stays at a
/// few batches whatever the files' size.
public enum ReceiptImport {
    public struct Result: Sendable {
        /// Records read, rejected ones included.
        public var records = 0
        public var recorded = ReceiptBatchResult()
        /// Records passed over (not JSON, not an event, a field out of range): nothing of
        /// them is recorded, and the import goes on.
        public var rejected = 0
        /// The first `shownRejections` of them: "FILE: record N (byte B): reason".
        public var rejections: [String] = []
    }

    static let shownRejections = 20

    /// A file that stopped the import, and why; batches before it stay recorded.
    public struct Failure: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// Events per transaction, shared out among the writers: memory stays at a few
    /// batches' worth whether one writer or two hold them (two of 4,096 took the
    /// import past 100 MB at 1M records).
    static let eventsInFlight = 4096

    public static func run(files: [String], journalPath: String) throws -> Result {
        let journal = try JournalOpener.receipts(journalPath)
        var writers = [Writer(journal)]
        for _ in 1..<max(1, journal.importWriters) { writers.append(Writer(try JournalOpener.receipts(journalPath))) }
        let batchSize = Self.eventsInFlight / writers.count
        var result = Result()
        for file in files {
            guard FileManager.default.isReadableFile(atPath: file) else { throw Failure(file: file, reason: "cannot read the file") }
            let batches = HandOff<[DeliveryEvent]>(capacity: 2)
            // Filled on the reading thread, read once it is done.
            let rejections = Mutex<(count: Int, shown: [String])>((0, []))
            batches.startProducer { handOff in
                var batch: [DeliveryEvent] = []
                batch.reserveCapacity(batchSize)
                let rejected: AWSEventRecords.Rejected = { rejection in
                    rejections.withLock { list in
                        list.count += 1
                        if list.shown.count < shownRejections { list.shown.append("\(file): \(rejection)") }
                    }
                }
                try AWSEventRecords.read(file: file, rejected: rejected) { event in
                    batch.append(event)
                    if batch.count == batchSize {
                        guard handOff.put(batch) else { throw ProducerCancelled() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = handOff.put(batch) }
            }
            do {
                result.recorded.add(try record(batches, through: writers, counted: &result.records))
                rejections.withLock { list in
                    result.rejected += list.count
                    result.records += list.count
                    result.rejections += list.shown.prefix(max(0, shownRejections - result.rejections.count))
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

    /// Records the batches as they come, through every writer at once (the first on
    /// the calling thread, the others on threads of their own): as many connections as
    /// the store writes through side by side. Two events of one message may then be
    /// recorded in either order, as callbacks may arrive in either order: a final
    /// delivery state never regresses, and the message's lock orders the two.
    private static func record(_ batches: HandOff<[DeliveryEvent]>, through writers: [Writer],
                               counted records: inout Int) throws -> ReceiptBatchResult {
        let totals = Mutex<(result: ReceiptBatchResult, records: Int, failure: (any Error)?)>((ReceiptBatchResult(), 0, nil))
        @Sendable func drain(_ writer: Writer) {
            do {
                while let batch = try batches.take() {
                    let recorded = try writer.journal.recordReceipts(batch)
                    totals.withLock { $0.result.add(recorded); $0.records += batch.count }
                }
            } catch {
                totals.withLock { if $0.failure == nil { $0.failure = error } }
                batches.cancel()
            }
        }
        let others = DispatchGroup()
        for writer in writers.dropFirst() {
            others.enter()
            Thread.detachNewThread {
                drain(writer)
                others.leave()
            }
        }
        drain(writers[0])
        others.wait()
        let (result, count, failure) = totals.withLock { $0 }
        records += count
        if let failure { throw failure }
        return result
    }

    /// A connection handed to the thread that writes through it, used there only.
    private final class Writer: @unchecked Sendable {
        let journal: any ReceiptJournal
        init(_ journal: any ReceiptJournal) { self.journal = journal }
    }
}
