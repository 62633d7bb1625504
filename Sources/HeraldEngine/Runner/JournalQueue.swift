import Dispatch
import HeraldStore

/// Confines the journal to one serial queue: SQLite work (and its fsyncs) runs off
/// the cooperative thread pool, so sends keep going while a batch commits.
///
/// `@unchecked Sendable`: the journal is only ever touched inside `queue`.
final class JournalQueue: @unchecked Sendable {
    private let journal: Journal
    private let queue = DispatchQueue(label: "herald.journal")

    init(_ journal: Journal) {
        self.journal = journal
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (Journal) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.journal) }) }
        }
    }
}
