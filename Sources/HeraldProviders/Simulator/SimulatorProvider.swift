import Foundation
import HeraldCore
import Synchronization

/// The built-in provider: behaves like a messaging API (latency, transient and
/// permanent failures, throttling, idempotency keys) without a network.
///
/// With an outbox, the outbox is also its memory: keys delivered by any run, in this
/// process or another sending to the same outbox, are acknowledged again without a second
/// delivery, as a real provider that honours idempotency keys would. Without one, it
/// remembers nothing. A request is decided when it arrives and answered after the
/// latency, as over a network: a sender that stops while waiting for the answer has
/// still reached the provider. A dry run is
/// validated (and may be refused, at `permanent_failure_rate`) but never delivered.
public final class SimulatorProvider: MessageProvider {
    public let name = ProviderKind.simulator.name
    public let capabilities = ProviderKind.simulator.capabilities
    public let configuration: SimulatorConfiguration

    private struct State {
        var random: SplitMix64
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
        outbox = try configuration.outboxPath.map { try Outbox(path: $0, from: configuration.from) }
        state = Mutex(State(
            random: SplitMix64(seed: configuration.seed),
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
        let (outcome, latency) = state.withLock { state -> (SendOutcome, Double) in
            // A refused connection: answered at once, the request never arrived.
            if configuration.unreachableRate > 0, state.random.unit() < configuration.unreachableRate {
                return (.unreached(reason: "simulated refused connection: the request never reached the provider"), 0)
            }
            let range = configuration.latencyMilliseconds
            let latency = range.lowerBound + (range.upperBound - range.lowerBound) * state.random.unit()
            return (decide(message, &state), latency)
        }
        if latency > 0 { try? await Task.sleep(for: .microseconds(Int(latency * 1000))) }
        return outcome
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
        let deliveries = state.deliveries
        let refusal = { () -> SendOutcome? in
            if draw < self.configuration.failureRate + self.configuration.permanentFailureRate {
                return .permanent(reason: "simulated permanent failure: destination rejected")
            }
            if message.dryRun { return .accepted(providerRef: "") }
            if let limit = self.configuration.spendLimitAfter, deliveries >= limit {
                return .spendLimit(reason: "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT (simulated after \(limit) messages)")
            }
            return nil
        }
        if let outbox, !message.dryRun {
            // A key any process delivered before is acknowledged again, never refused.
            do {
                switch try outbox.deliver(message, unless: refusal) {
                case .before: return .accepted(providerRef: reference)
                case .refused(let outcome): return outcome
                // As a provider under load answers: later, and this attempt does not count.
                case .busy: return .throttled(retryAfter: .seconds(1))
                case .now: break
                }
            } catch {
                return .transient(reason: "\(error)")
            }
        } else if let refused = refusal() {
            return refused
        }
        state.deliveries += 1
        if configuration.receipts != nil {
            receipts.withLock { $0 }?.accepted(row: message.row, rcs: configuration.rcsDirect && message.channel == .rcs)
        }
        if configuration.lostAnswerRate > 0, state.random.unit() < configuration.lostAnswerRate {
            return .indeterminate(reason: "simulated lost answer: connection closed after the request was delivered")
        }
        return .accepted(providerRef: reference)
    }

    public func shutdown() async {}
}
