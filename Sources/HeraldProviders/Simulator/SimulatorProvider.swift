import Foundation
import HeraldCore
import Synchronization

/// The built-in provider: behaves like a messaging API (latency, transient and
/// permanent failures, throttling, idempotency keys) without a network.
///
/// With an outbox, the outbox is also its memory: keys delivered in any earlier
/// run are acknowledged again without a second delivery, as a real provider that
/// honours idempotency keys would. Without one, it remembers nothing. A dry run is
/// validated (and may be refused, at `permanent_failure_rate`) but never delivered.
public final class SimulatorProvider: MessageProvider {
    public let name = "simulator"
    public let capabilities = ProviderCapabilities(honoursIdempotencyKeys: true)
    public let configuration: SimulatorConfiguration

    private struct State {
        var random: SplitMix64
        var delivered: Set<String>
        var tokens: Double
        var lastRefill: ContinuousClock.Instant
        var deliveries = 0
    }

    private let state: Mutex<State>
    private let outbox: Outbox?
    /// Where receipts go, once the engine attached a sink (`receipts(campaign:sink:)`).
    private let receipts = Mutex<SimulatedReceipts?>(nil)

    public init(configuration: SimulatorConfiguration) throws {
        self.configuration = configuration
        var delivered = Set<String>()
        if let path = configuration.outboxPath {
            delivered = Outbox.deliveredKeys(path: path)
            outbox = try Outbox(path: path)
        } else {
            outbox = nil
        }
        state = Mutex(State(
            random: SplitMix64(seed: configuration.seed), delivered: delivered,
            tokens: max((configuration.throttleMessagesPerSecond ?? 0) / 10, 1), lastRefill: .now))
    }

    /// Starts producing receipts for `campaign` (when the configuration asks for them).
    public func startReceipts(campaign: String, sink: @escaping @Sendable ([DeliveryEvent]) -> Void) -> SimulatedReceipts? {
        guard let rates = configuration.receipts else { return nil }
        let made = SimulatedReceipts(rates: rates, campaign: campaign, seed: configuration.seed, sink: sink)
        receipts.withLock { $0 = made }
        return made
    }

    public func send(_ message: OutboundMessage) async -> SendOutcome {
        let latency = state.withLock { state -> Double in
            let range = configuration.latencyMilliseconds
            return range.lowerBound + (range.upperBound - range.lowerBound) * state.random.unit()
        }
        if latency > 0 { try? await Task.sleep(for: .microseconds(Int(latency * 1000))) }
        return state.withLock { state in decide(message, &state) }
    }

    private func decide(_ message: OutboundMessage, _ state: inout State) -> SendOutcome {
        // No reference: the simulator's receipts name the row, so nothing is indexed.
        let reference = ""
        if let rate = configuration.throttleMessagesPerSecond {
            let now = ContinuousClock.now
            let elapsed = state.lastRefill.duration(to: now)
            let seconds = elapsed.seconds
            // A tenth of a second of burst, as providers count their limits per second.
            state.tokens = min(max(rate / 10, 1), state.tokens + seconds * rate)
            state.lastRefill = now
            guard state.tokens >= 1 else { return .throttled(retryAfter: nil) }
            state.tokens -= 1
        }
        let draw = state.random.unit()
        // A server error can meet a request whether or not its key was seen before.
        if draw < configuration.failureRate { return .transient(reason: "simulated transient failure") }
        if outbox != nil, state.delivered.contains(message.idempotencyKey) { return .accepted(providerRef: reference) }
        if draw < configuration.failureRate + configuration.permanentFailureRate {
            return .permanent(reason: "simulated permanent failure: destination rejected")
        }
        if message.dryRun { return .accepted(providerRef: "") }
        if let limit = configuration.spendLimitAfter, state.deliveries >= limit {
            return .spendLimit(reason: "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT (simulated after \(limit) messages)")
        }
        if let outbox {
            do {
                try outbox.append(message)
            } catch {
                return .transient(reason: "\(error)")
            }
            state.delivered.insert(message.idempotencyKey)
        }
        state.deliveries += 1
        if configuration.receipts != nil { receipts.withLock { $0 }?.accepted(row: message.row) }
        if configuration.lostAnswerRate > 0, state.random.unit() < configuration.lostAnswerRate {
            return .indeterminate(reason: "simulated lost answer: connection closed after the request was delivered")
        }
        return .accepted(providerRef: reference)
    }

    public func shutdown() async {}
}
