import Foundation
import HeraldCore
import HeraldStore

/// Rows scanned from the CSV, handed from the scanning thread to the journal
/// thread in one piece: bodies side by side in one buffer.
final class ScannedBatch: @unchecked Sendable {  // owned by one thread at a time, handed over through a HandOff
    struct Entry {
        var line: Int
        var phone: PhoneNumber?
        var bodyEnd: Int
        var problem: RowProblem?
        var segments: SMSSegments
        var cost: Money
        var timeZones: String?
    }

    var entries: [Entry] = []
    var bodies: [UInt8] = []

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        bodies.reserveCapacity(capacity * 96)
    }
}

extension RecipientScanner {
    /// Scans on a background thread, handing batches of `batchSize` rows to `channel`
    /// (bodies too, unless `keepBodies` is false).
    func produce(into channel: HandOff<ScannedBatch>, batchSize: Int = 4096, keepBodies: Bool = true) {
        channel.startProducer { [self] channel in
            var batch = ScannedBatch(capacity: batchSize)
            try scan { row in
                if keepBodies { batch.bodies.append(contentsOf: row.body) }
                batch.entries.append(.init(line: row.line, phone: row.phone, bodyEnd: batch.bodies.count, problem: row.problem,
                                           segments: row.segments, cost: row.cost, timeZones: row.timeZones))
                if batch.entries.count == batchSize {
                    guard channel.put(batch) else { throw ProducerCancelled() }
                    batch = ScannedBatch(capacity: batchSize)
                }
            }
            if !batch.entries.isEmpty, !channel.put(batch) { throw ProducerCancelled() }
        }
    }
}
