import Synchronization

/// How long this process's journal steps (settle + claim transactions) took: read by
/// `herald-bench` for claim latency under contention. Kept for the last 100,000 steps.
public final class StepTimings: Sendable {
    public static let shared = StepTimings()
    private let seconds = Mutex<[Double]>([])

    func record(_ value: Double) {
        seconds.withLock { list in
            if list.count >= 100_000 { list.removeFirst(list.count / 2) }
            list.append(value)
        }
    }

    /// The `fraction` quantile in seconds (nil before any step).
    public func quantile(_ fraction: Double) -> Double? {
        let sorted = seconds.withLock { $0.sorted() }
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    public var count: Int { seconds.withLock { $0.count } }
}
