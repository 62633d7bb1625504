import Foundation
import HeraldCore
import HeraldStore

/// Rows scanned from the CSV, handed from the scanning thread to the journal
/// thread in one piece: bodies side by side in one buffer.
final class ScannedBatch: @unchecked Sendable {  // owned by one thread at a time, handed over through BatchChannel
    struct Entry {
        var line: Int
        var phone: PhoneNumber?
        var bodyEnd: Int
        var problem: RowProblem?
        var parts: Int
        var cost: Money
    }

    var entries: [Entry] = []
    var bodies: [UInt8] = []

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        bodies.reserveCapacity(capacity * 96)
    }
}

/// A bounded blocking hand-off between two threads (the scanner and the journal
/// writer), so import uses both cores while memory stays at `capacity` batches.
final class BatchChannel: @unchecked Sendable {  // all state guarded by `condition`
    private let condition = NSCondition()
    private var queue: [ScannedBatch] = []
    private var closed = false
    private var failure: Error?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Blocks while full. Returns false once the consumer has given up.
    func put(_ batch: ScannedBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    /// Ends the stream, with the producer's error if it failed.
    func close(_ error: Error? = nil) {
        condition.lock()
        closed = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer gives up: a blocked producer wakes and stops.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end. Throws the producer's error.
    func take() throws -> ScannedBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }
}

struct ImportCancelled: Error {}

extension RecipientScanner {
    /// Scans on a background thread, handing batches of `batchSize` rows to `channel`.
    func produce(into channel: BatchChannel, batchSize: Int = 4096) {
        Thread.detachNewThread { [self] in
            var batch = ScannedBatch(capacity: batchSize)
            do {
                try scan { row in
                    batch.bodies.append(contentsOf: row.body)
                    batch.entries.append(.init(line: row.line, phone: row.phone, bodyEnd: batch.bodies.count, problem: row.problem,
                                               parts: row.segments.parts, cost: row.cost))
                    if batch.entries.count == batchSize {
                        guard channel.put(batch) else { throw ImportCancelled() }
                        batch = ScannedBatch(capacity: batchSize)
                    }
                }
                if !batch.entries.isEmpty, !channel.put(batch) { throw ImportCancelled() }
                channel.close()
            } catch {
                channel.close(error)
            }
        }
    }
}
