import HeraldJournal
import Synchronization

/// This sender's lease term (`LeaseTerm`), shared by the send loop, which renews it after
/// every step and heartbeat that committed, and the dispatcher, which checks it just
/// before every request: past it, nothing more is sent until the journal renews it.
final class LeaseClock: Sendable {
    private let term: Mutex<LeaseTerm>

    init(timeout: Duration) {
        term = Mutex(LeaseTerm(timeout: timeout))
    }

    func renewed(startedAt started: ContinuousClock.Instant) {
        term.withLock { $0.renewed(startedAt: started) }
    }

    func lost() {
        term.withLock { $0.lost() }
    }

    var allowsRequest: Bool { term.withLock { $0.allowsRequest(at: .now) } }

    /// Runs `work` (a step or a heartbeat) and renews the term from the moment it started,
    /// when it says the lease is still held.
    func renewing<T>(_ held: (T) -> Bool = { _ in true }, _ work: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        let result = try await work()
        if held(result) { renewed(startedAt: started) } else { lost() }
        return result
    }
}
