import Foundation

/// A bounded blocking hand-off from one producer thread to one consumer, so a
/// pipeline uses both cores while memory stays at `capacity` items.
///
/// `@unchecked Sendable`: all state is guarded by `condition`; the items handed
/// over are owned by one side at a time.
final class HandOff<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Element] = []
    private var closed = false
    private var failure: Error?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Blocks while full. Returns false once the consumer has given up.
    func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(item)
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

    /// The next item; nil at the end. Throws the producer's error.
    func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        if !queue.isEmpty {
            let item = queue.removeFirst()
            condition.broadcast()
            return item
        }
        if let failure { throw failure }
        return nil
    }

    /// Runs `produce` on a new thread, feeding this hand-off; closes it at the end.
    func startProducer(_ produce: @escaping @Sendable (HandOff<Element>) throws -> Void) {
        Thread.detachNewThread {
            do {
                try produce(self)
                self.close()
            } catch {
                self.close(error)
            }
        }
    }
}

struct ProducerCancelled: Error {}
