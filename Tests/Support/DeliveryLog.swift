import Synchronization

/// What a provider that drops repeated idempotency keys delivered: the first
/// request per key only, in the order they came.
public final class DeliveryLog: Sendable {
    private let state = Mutex<(ids: Set<String>, destinations: [String])>(([], []))

    public init() {}

    /// True the first time `id` is seen.
    public func record(id: String, destination: String) -> Bool {
        state.withLock {
            guard $0.ids.insert(id).inserted else { return false }
            $0.destinations.append(destination)
            return true
        }
    }

    public var destinations: [String] { state.withLock { $0.destinations } }
}
