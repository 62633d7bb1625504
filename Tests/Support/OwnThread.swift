import Foundation

/// Runs blocking work (waiting on child processes, polling files) on a thread of its own and
/// awaits it. A test that blocks instead holds one of the cooperative pool's threads (two on a
/// 2-core machine) for as long as it runs; two such tests at once stalled every in-process
/// test of the run for minutes, and their timing checks failed (a full run beside the journey
/// seeds: a limit run that sent nothing, a window 238 s off).
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
