import Dispatch
import HeraldJournal

/// Confines the journal to one serial queue: journal work (SQLite's fsyncs, PostgreSQL's
/// round trips) runs off the cooperative thread pool, so sends keep going while a batch commits.
///
/// `@unchecked Sendable`: the journal is only ever touched inside `queue`.
final class JournalQueue: @unchecked Sendable {
    private let journal: any CampaignJournal
    private let queue = DispatchQueue(label: "herald.journal")
    let sharesCampaigns: Bool
    let leaseTimeout: Duration

    init(_ journal: any CampaignJournal) {
        self.journal = journal
        sharesCampaigns = journal.sharesCampaigns
        leaseTimeout = journal.leaseTimeout
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any CampaignJournal) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.journal) }) }
        }
    }
}
