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
        /// The number may repeat an earlier row's (see `DestinationFilter`).
        var maybeRepeat = false
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
    /// With `flagRepeats`, valid rows whose number may repeat an earlier one are flagged
    /// here, on the scanning thread, so the journal's thread only writes.
    func produce(into channel: HandOff<ScannedBatch>, batchSize: Int = 4096, keepBodies: Bool = true,
                 flagRepeats: Bool = false) {
        let expected = (try? FileManager.default.attributesOfItem(atPath: plan.spec.recipientsPath)[.size] as? Int) ?? nil
        channel.startProducer { [self] channel in
            var batch = ScannedBatch(capacity: batchSize)
            var filter = flagRepeats ? DestinationFilter(expected: (expected ?? 0) / 24) : nil
            try scan { row in
                if keepBodies { batch.bodies.append(contentsOf: row.body) }
                var repeats = false
                if row.problem == nil, let phone = row.phone { repeats = filter?.insert(phone.digits) ?? false }
                batch.entries.append(.init(line: row.line, phone: row.phone, bodyEnd: batch.bodies.count, problem: row.problem,
                                           segments: row.segments, cost: row.cost, timeZones: row.timeZones,
                                           maybeRepeat: repeats))
                if batch.entries.count == batchSize {
                    guard channel.put(batch) else { throw ProducerCancelled() }
                    batch = ScannedBatch(capacity: batchSize)
                }
            }
            if !batch.entries.isEmpty, !channel.put(batch) { throw ProducerCancelled() }
        }
    }
}
