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
        if first { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
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
                let counter = registry.makeCounter(name: "herald_receipts_total", labels: [("provider", route.name), ("type", label)])
                counters[key] = counter
                return counter
            }
            counter.increment()
        }
    }

    /// Reads the counters now and writes every metric.
    func scrape(dashboard: Dashboard) throws -> Response {
        for row in try dashboard.rows() {
            let campaign = [("campaign", row.campaign)]
            for (state, count) in row.counts {
                registry.makeGauge(name: "herald_messages", labels: campaign + [("state", state)]).set(Double(count))
            }
            registry.makeGauge(name: "herald_spent_usd", labels: campaign).set(Double(row.spent) ?? 0)
            registry.makeGauge(name: "herald_reserved_usd", labels: campaign).set(Double(row.reserved) ?? 0)
            registry.makeGauge(name: "herald_send_rate_messages_per_second", labels: campaign).set(row.rate)
            registry.makeGauge(name: "herald_in_flight_messages", labels: campaign).set(Double(row.counts["sending"] ?? 0))
            registry.makeGauge(name: "herald_throttled_messages", labels: campaign).set(Double(row.throttled))
            registry.makeGauge(name: "herald_delivered_messages", labels: campaign).set(Double(row.delivered))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
