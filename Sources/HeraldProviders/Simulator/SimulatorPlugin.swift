import Foundation
import HeraldCore
import HeraldSettings
import Yams

/// The built-in simulated provider, the default: every channel and the most lenient content
/// rules, dedupe by idempotency key, receipts made in process (no route).
extension ProviderKind {
    public static let simulator = ProviderKind(
        name: "simulator", content: .simulator, capabilities: ProviderCapabilities(honoursIdempotencyKeys: true),
        senderField: SenderField(key: "from", allowed: "A-Za-z0-9 +_-", max: 32),
        parse: { map, folder throws(InputError) in try SimulatorConfiguration(settings: map, folder: folder) })
}

extension ContentTarget {
    public static let simulator = ContentTarget(name: "simulator", channels: Channel.allCases)
}

extension SimulatorConfiguration: ProviderSettings {
    public static var kind: ProviderKind { .simulator }

    public var sender: String { from ?? "" }

    public init(settings map: YAMLMap, folder: URL) throws(InputError) {
        try map.onlyKeys(["kind", "latency_ms", "failure_rate", "permanent_failure_rate", "lost_answer_rate", "unreachable_rate",
                          "throttle_mps",
                          "seed", "outbox", "spend_limit_after", "receipts", "from", "rcs_direct"])
        self.init()
        from = try map.setting("from", allowed: Self.kind.senderField?.allowed, max: 32)
        rcsDirect = try map.bool("rcs_direct") ?? false
        if let latency = map.node("latency_ms") { latencyMilliseconds = try Self.latency(latency, map: map) }
        failureRate = try map.double("failure_rate", in: 0...1) ?? 0
        permanentFailureRate = try map.double("permanent_failure_rate", in: 0...1) ?? 0
        lostAnswerRate = try map.double("lost_answer_rate", in: 0...1) ?? 0
        unreachableRate = try map.double("unreachable_rate", in: 0...1) ?? 0
        if failureRate + permanentFailureRate > 1 {
            throw map.error("failure_rate", "failure_rate + permanent_failure_rate must not exceed 1")
        }
        throttleMessagesPerSecond = try map.double("throttle_mps", in: 0.001...1_000_000)
        if let seed = try map.int("seed", in: 0...Int.max) { self.seed = UInt64(seed) }
        spendLimitAfter = try map.int("spend_limit_after", in: 0...Int.max)
        if let outbox = try map.string("outbox") {
            outboxPath = URL(fileURLWithPath: outbox, relativeTo: folder).standardizedFileURL.path
        }
        if let settings = try map.map("receipts") {
            try settings.onlyKeys(["delivered", "undelivered", "read", "latency_ms"])
            var rates = SimulatedReceiptRates()
            rates.delivered = try settings.double("delivered", in: 0...1) ?? rates.delivered
            rates.undelivered = try settings.double("undelivered", in: 0...1) ?? rates.undelivered
            rates.read = try settings.double("read", in: 0...1) ?? rates.read
            if rates.delivered + rates.undelivered > 1 {
                throw settings.error("delivered", "delivered + undelivered must not exceed 1")
            }
            if let latency = settings.node("latency_ms") { rates.latencyMilliseconds = try Self.latency(latency, map: settings) }
            receipts = rates
        }
    }

    /// `latency_ms: 5` or `latency_ms: "2-20"` (uniform in the range).
    private static func latency(_ node: Node, map: YAMLMap) throws(InputError) -> ClosedRange<Double> {
        if let fixed = node.float ?? node.int.map(Double.init), fixed >= 0, fixed <= 60_000 {
            return fixed...fixed
        }
        if let text = node.string {
            let bounds = text.split(separator: "-").map { Double(String($0).trimmingCharacters(in: CharacterSet.whitespaces)) }
            if bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 0, low <= high, high <= 60_000 {
                return low...high
            }
        }
        throw map.error("latency_ms", "expected milliseconds as a number (5) or a range (\"2-20\")")
    }

    public func problem(sending channel: Channel, fallback: Bool) -> String? { nil }

    /// With `rcs_direct`, its receipts prove an RCS message was not delivered.
    public var rcsFailureProof: RCSFailureProof? { rcsDirect ? Self.rcsFailure : nil }

    public static let rcsFailure = RCSFailureProof(source: .simulator, types: ["RCS_FAILED"])

    public func makeProvider(_ context: ProviderContext) throws -> any MessageProvider {
        try SimulatorProvider(configuration: self)
    }
}

extension ReceiptSource {
    public static let simulator = ReceiptSource(ProviderKind.simulator.name)
}
