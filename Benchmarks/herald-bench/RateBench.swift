import Foundation
import HeraldEngine
import HeraldProviders
import Synchronization

/// Wraps a provider and notes when each answer came and what it was.
final class RecordingProvider: MessageProvider {
    let inner: any MessageProvider
    let events = Mutex<[(time: ContinuousClock.Instant, accepted: Bool)]>([])
    var name: String { inner.name }
    var capabilities: ProviderCapabilities { inner.capabilities }

    init(_ inner: any MessageProvider) { self.inner = inner }

    /// Notes the moment the request reaches the provider, as a provider would count it.
    func send(_ message: OutboundMessage) async -> SendOutcome {
        let time = ContinuousClock.now
        let outcome = await inner.send(message)
        let accepted: Bool
        if case .accepted = outcome { accepted = true } else { accepted = false }
        events.withLock { $0.append((time, accepted)) }
        return outcome
    }

    func shutdown() async { await inner.shutdown() }
}

/// Configured rate for 10 s against the simulator (1 ms latency): achieved mean and
/// the worst one-second window; with `throttle`, the simulator throttles at half the rate.
func rateBench(rate: Int, throttle: Bool) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let seconds = 10
    let rows = throttle ? rate * seconds / 2 : rate * seconds
    let burst = max(1, rate / 100)
    _ = try makeCampaign(in: folder, rows: rows)
    let simulator = throttle ? "{kind: simulator, latency_ms: 1, throttle_mps: \(rate / 2)}" : "{kind: simulator, latency_ms: 1}"
    try """
    id: rate
    template: template.yaml
    recipients: recipients.csv
    provider: \(simulator)
    rate: {messages_per_second: \(rate), burst: \(burst), max_in_flight: \(max(8, rate / 100))}
    """.write(to: folder.appendingPathComponent("campaign.yaml"), atomically: true, encoding: .utf8)
    let plan = try CampaignPlan.load(campaignPath: folder.appendingPathComponent("campaign.yaml").path)
    var simulatorConfiguration = SimulatorConfiguration()
    simulatorConfiguration.latencyMilliseconds = 1...1
    simulatorConfiguration.throttleMessagesPerSecond = throttle ? Double(rate / 2) : nil
    let recorder = RecordingProvider(try SimulatorProvider(configuration: simulatorConfiguration))
    var runner = CampaignRunner(plan: plan, journalPath: folder.appendingPathComponent("journal.sqlite").path,
                                options: RunOptions(), stop: StopSignal())
    runner.provider = recorder
    let summary = try await runner.run()
    precondition(summary.counts[.sent] == rows, "every message delivered")
    let events = recorder.events.withLock { $0 }
    let accepted = events.filter(\.accepted).map(\.time)
    guard let first = accepted.first, let last = accepted.last else { return }
    func ms(_ instant: ContinuousClock.Instant) -> Double {
        let d = first.duration(to: instant)
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15
    }
    let times = accepted.map(ms)
    var worst = 0
    var low = 0
    for high in times.indices {
        while times[high] - times[low] >= 1000 { low += 1 }
        worst = max(worst, high - low + 1)
    }
    let mean = Double(times.count - 1) / (times.last! / 1000)
    if !throttle {
        emit(["figure": "rate_mean_msgs_per_s", "configured": rate, "value": (mean * 10).rounded() / 10,
              "error_pct": ((mean - Double(rate)) / Double(rate) * 10000).rounded() / 100,
              "target": "at most the rate, about 1% under it (Pacing.margin)"])
        emit(["figure": "rate_worst_1s_window", "configured": rate, "burst": burst, "value": worst,
              "target": "<= \(rate + burst)"])
        return
    }
    // Per second: deliveries and throttled answers. Converged from the first second
    // after which every full second delivers within 10% of the throttle with under
    // 5% of its requests throttled.
    let total = Int(ms(last) / 1000) + 1
    var delivered = [Int](repeating: 0, count: total + 1)
    var refused = [Int](repeating: 0, count: total + 1)
    for event in events {
        let second = max(0, Int(ms(event.time) / 1000))
        if event.accepted { delivered[min(second, total)] += 1 } else { refused[min(second, total)] += 1 }
    }
    let target = Double(rate / 2)
    func steady(_ second: Int) -> Bool {
        let requests = delivered[second] + refused[second]
        return abs(Double(delivered[second]) - target) / target <= 0.1
            && Double(refused[second]) < 0.05 * Double(max(requests, 1))
    }
    let fullSeconds = total - 1  // the last second is cut short by the end of the campaign
    let converged = (0..<fullSeconds).first { second in (second..<fullSeconds).allSatisfy(steady) } ?? total
    let after = (converged..<total)
    let requests = after.reduce(0) { $0 + delivered[$1] + refused[$1] }
    let throttledAfter = after.reduce(0) { $0 + refused[$1] }
    emit(["figure": "throttle_convergence_s", "configured": rate, "throttle": rate / 2, "value": converged,
          "delivered_per_s": Array(delivered[0..<fullSeconds]), "throttled_per_s": Array(refused[0..<fullSeconds]),
          "target": "a few seconds"])
    emit(["figure": "throttled_share_after_convergence_pct", "configured": rate,
          "value": requests == 0 ? 0 : (Double(throttledAfter) / Double(requests) * 10000).rounded() / 100, "target": "< 5"])
    emit(["figure": "throttle_lost_messages", "configured": rate, "value": rows - summary.counts[.sent], "target": "0"])
}
