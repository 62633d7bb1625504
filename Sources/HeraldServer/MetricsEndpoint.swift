import CoreMetrics
import Foundation
import HeraldProviders
import HeraldEngine
import Hummingbird
import NIOCore
import Prometheus
import Synchronization

/// `/metrics` in the Prometheus text format (swift-metrics with swift-prometheus):
/// messages by campaign and state, spend, send rate, in flight, throttled rows (read
/// from the journal's counters at each scrape), receipts taken by provider and type
/// (counted as they are committed), and HTTP request durations (Hummingbird's
/// `MetricsMiddleware`).
final class MetricsEndpoint: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// swift-metrics' backend is process-wide and set once: the first server sets it.
    private static let bootstrapped = Mutex(false)

    init() {
        let first = Self.bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(DescribedMetricsFactory(base: PrometheusMetricsFactory(registry: registry))) }
    }

    /// The receipt counters made so far, by provider and label: a few dozen at most (the
    /// labels are the known types and `other`). Looked up here rather than made per event:
    /// the registry checks the name and labels each time (measured: 3% of a receiver's CPU).
    private let receiptCounters = Mutex<[String: Prometheus.Counter]>([:])

    /// Receipts just committed.
    /// Counts receipts by route and type (`ReceiptRoute.metricLabel`: the known types, else `other`).
    func received(route: ReceiptRoute, types: [String]) {
        for type in types {
            let label = route.metricLabel(type)
            let counter = receiptCounters.withLock { counters in
                let key = route.name + "/" + label
                if let counter = counters[key] { return counter }
                let counter = registry.makeCounter(name: "herald_receipts_total", labels: [("provider", route.name), ("type", label)],
                                                   help: Self.help["herald_receipts_total"] ?? "")
                counters[key] = counter
                return counter
            }
            counter.increment()
        }
    }

    /// Reads the counters now and writes every metric.
    func scrape(dashboard: Dashboard) throws -> Response {
        func gauge(_ name: String, _ labels: [(String, String)]) -> Prometheus.Gauge {
            registry.makeGauge(name: name, labels: labels, help: Self.help[name] ?? "")
        }
        for row in try dashboard.rows() {
            let campaign = [("campaign", row.campaign)]
            for (state, count) in row.counts {
                gauge("herald_messages", campaign + [("state", state)]).set(Double(count))
            }
            gauge("herald_spent_usd", campaign).set(Double(row.spent) ?? 0)
            gauge("herald_reserved_usd", campaign).set(Double(row.reserved) ?? 0)
            gauge("herald_send_rate_messages_per_second", campaign).set(row.rate)
            gauge("herald_in_flight_messages", campaign).set(Double(row.counts["sending"] ?? 0))
            gauge("herald_throttled_messages", campaign).set(Double(row.throttled))
            gauge("herald_delivered_messages", campaign).set(Double(row.delivered))
            for line in row.providers ?? [] {
                let provider = campaign + [("provider", line.name)]
                for (state, count) in [("sent", line.sent), ("failed", line.failed), ("skipped", line.skipped),
                                       ("in_doubt", line.inDoubt), ("open", line.open)] {
                    gauge("herald_provider_messages", provider + [("state", state)]).set(Double(count))
                }
                gauge("herald_provider_delivered_messages", provider).set(Double(line.delivered))
                gauge("herald_provider_cost_usd", provider).set(Double(line.cost.description) ?? 0)
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

extension MetricsEndpoint {
    /// The HELP text of every family Herald makes itself.
    static let help: [String: String] = [
        "herald_messages": "Messages of a campaign in each journal state (pending, sending, sent, retry, failed, skipped, in_doubt).",
        "herald_spent_usd": "USD a campaign has spent, as settled in the journal's ledger.",
        "herald_reserved_usd": "USD reserved for a campaign's messages being sent.",
        "herald_send_rate_messages_per_second": "Messages a campaign sent per second between the last two scrapes.",
        "herald_in_flight_messages": "A campaign's messages sent and not yet answered.",
        "herald_throttled_messages": "A campaign's messages waiting after a provider said too fast.",
        "herald_delivered_messages": "A campaign's messages a delivery receipt says were delivered.",
        "herald_provider_messages": "Messages of a campaign with several providers, by provider and state (sent, failed, skipped, in_doubt, open).",
        "herald_provider_delivered_messages": "Messages a delivery receipt says were delivered, by provider of a campaign with several.",
        "herald_provider_cost_usd": "Herald's price of the messages each provider of a campaign with several sent (sent or in doubt).",
        "herald_receipts_total": "Delivery receipts committed, by receipt route and event type (unknown types count as other).",
    ]
}

/// swift-metrics' handlers as Prometheus families named as Prometheus asks (`_total` for a
/// counter, `_seconds` for durations) and with HELP text: Hummingbird's request metrics by
/// their labels; anything else as the Prometheus factory makes it.
struct DescribedMetricsFactory: MetricsFactory {
    let base: PrometheusMetricsFactory

    static let described: [String: (name: String, help: String)] = [
        "hb.requests": ("http_server_requests_total", "HTTP requests answered, by route, method and status."),
        "hb.request.errors": ("http_server_request_errors_total", "HTTP requests that failed, by route, method and error."),
        "http.server.request.duration": ("http_server_request_duration_seconds", "Time to answer an HTTP request, by route, method and status."),
        "http.server.active_requests": ("http_server_active_requests", "HTTP requests being answered, by method."),
    ]

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let family = Self.described[label] else { return base.makeCounter(label: label, dimensions: dimensions) }
        return base.registry.makeCounter(name: family.name, labels: dimensions, help: family.help)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard let family = Self.described[label] else { return base.makeFloatingPointCounter(label: label, dimensions: dimensions) }
        return base.registry.makeCounter(name: family.name, labels: dimensions, help: family.help)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let family = Self.described[label] else { return base.makeMeter(label: label, dimensions: dimensions) }
        return base.registry.makeGauge(name: family.name, labels: dimensions, help: family.help)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let family = Self.described[label] else { return base.makeTimer(label: label, dimensions: dimensions) }
        return base.registry.makeDurationHistogram(name: family.name, labels: dimensions, buckets: base.defaultDurationHistogramBuckets,
                                                   help: family.help)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
