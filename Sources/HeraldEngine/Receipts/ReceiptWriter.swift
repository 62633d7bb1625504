import Foundation
import HeraldCore
import HeraldProviders
import HeraldJournal
import Synchronization

/// Writes receipt events to the journal with group commit: callers hand in events
/// and wait; one thread with its own connection takes everything waiting, records it
/// in one transaction (one fsync for many requests) and only then answers each
/// caller. A caller that got an answer knows its events are on disk.
public final class ReceiptWriter: Sendable {
    private struct Waiting {
        let events: [DeliveryEvent]
        let done: @Sendable (Result<ReceiptBatchResult, JournalError>) -> Void
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let signal = NSCondition()
    private let totals = Mutex(ReceiptBatchResult())
    /// Agile message ids of unsettled rows (`resolve`).
    private let derived = Mutex(DerivedIDs())

    private struct DerivedIDs {
        /// When the ids of every unsettled row were last derived.
        var built: ContinuousClock.Instant?
        var ids: [String: (Int64, Int)] = [:]
        /// The batch whose miss last added the rows being sent now.
        var refreshedFor = -1
        var batch = 0
    }
    private let finished = DispatchSemaphore(value: 0)
    private let path: String

    /// The connection, handed to the writer thread and used there only.
    private final class Connection: @unchecked Sendable {
        let journal: any ReceiptJournal
        init(_ journal: any ReceiptJournal) { self.journal = journal }
    }

    /// What replies with stop and start keywords do.
    private let keywords: ReplyKeywords

    /// Opens its own connection to the journal at `path` (a SQLite file, created or
    /// migrated if need be, or a PostgreSQL URL: any number of writers may share one).
    public init(journalPath: String, keywords: ReplyKeywords = ReplyKeywords()) throws(JournalError) {
        path = journalPath
        self.keywords = keywords
        let connection = Connection(try JournalOpener.receipts(journalPath))
        let worker = Thread { [self] in self.loop(connection.journal) }
        worker.name = "herald-receipts"
        worker.stackSize = 1 << 20
        worker.start()
    }

    /// Records `events`; returns once they are committed.
    public func record(_ events: [DeliveryEvent]) async throws(JournalError) -> ReceiptBatchResult {
        let result: Result<ReceiptBatchResult, JournalError> = await withCheckedContinuation { continuation in
            enqueue(events) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Hands `events` in without waiting (the simulator's receipts).
    public func enqueue(_ events: [DeliveryEvent], done: @escaping @Sendable (Result<ReceiptBatchResult, JournalError>) -> Void = { _ in }) {
        let accepted = queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.waiting.append(Waiting(events: events, done: done))
            return true
        }
        guard accepted else {
            done(.failure(JournalError.closed(path: path)))
            return
        }
        signal.lock()
        signal.signal()
        signal.unlock()
    }

    /// Every event recorded so far by this writer.
    public var recorded: ReceiptBatchResult { totals.withLock { $0 } }

    /// Writes what is waiting, then stops the thread.
    public func close() {
        let first = queue.withLock { queue -> Bool in
            defer { queue.stopped = true }
            return !queue.stopped
        }
        guard first else { return }
        signal.lock()
        signal.signal()
        signal.unlock()
        finished.wait()
    }

    /// Group commit without lingering: what arrived while the last transaction ran
    /// goes into the next (measured: waiting for more only adds latency).
    private func loop(_ journal: any ReceiptJournal) {
        while true {
            signal.lock()
            var (batch, stopped) = queue.withLock { queue in
                defer { queue.waiting = [] }
                return (queue.waiting, queue.stopped)
            }
            if batch.isEmpty && !stopped {
                signal.wait(until: Date().addingTimeInterval(0.5))
                (batch, stopped) = queue.withLock { queue in
                    defer { queue.waiting = [] }
                    return (queue.waiting, queue.stopped)
                }
            }
            signal.unlock()
            if !batch.isEmpty { write(batch, journal) }
            if stopped && batch.isEmpty {
                finished.signal()
                return
            }
        }
    }

    private func write(_ batch: [Waiting], _ journal: any ReceiptJournal) {
        let events = batch.flatMap(\.events)
        derived.withLock { $0.batch += 1 }
        let outcome: Result<ReceiptBatchResult, JournalError>
        do {
            outcome = .success(try journal.recordReceipts(events, receivedAt: nil, keywords: keywords) { reference in self.resolve(reference, journal) })
        } catch {
            outcome = .failure(error)
        }
        if case .success(let result) = outcome {
            totals.withLock { $0.add(result) }
        }
        for waiting in batch { waiting.done(outcome) }
    }

    /// A reference the index does not hold may be Agile's id for a row whose answer
    /// never came back, or that is being sent right now (its callback can beat its
    /// answer, from another host too): those ids are derived from campaign and row. On a
    /// miss, the ids of every unsettled row are derived again at most once a second (there
    /// may be many in doubt), and those of the rows being sent (few: what is in flight) at
    /// most once a batch, so an event for a row claimed a moment ago is matched, and junk
    /// references cost one small look-up per batch.
    private func resolve(_ reference: String, _ journal: any ReceiptJournal) -> (cid: Int64, row: Int)? {
        derived.withLock { derived in
            if let hit = derived.ids[reference] { return hit }
            let states: [MessageState]
            if derived.built.map({ $0.duration(to: .now) >= .seconds(1) }) ?? true {
                derived.built = .now
                derived.ids = [:]
                states = [.sending, .inDoubt, .retry]
            } else if derived.refreshedFor != derived.batch {
                states = [.sending]
            } else {
                return nil
            }
            derived.refreshedFor = derived.batch
            for row in (try? journal.unsettledRows(in: states, limit: 1_000_000)) ?? [] {
                derived.ids[AgileProvider.messageID(for: "\(row.campaign)/\(row.row)")] = (row.cid, row.row)
            }
            return derived.ids[reference]
        }
    }
}

/// The simulator's receipts for one run and the writer they go through.
struct SimulatedReceiptRun {
    let source: SimulatedReceipts
    let writer: ReceiptWriter

    /// Waits for every scheduled event (at most the receipt latency), then closes.
    func finish() {
        source.drain()
        writer.close()
    }
}
