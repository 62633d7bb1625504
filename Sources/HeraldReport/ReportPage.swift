import Foundation
import HeraldCore
import Mustache

/// The report as one self-contained HTML file: styles inline, charts inline SVG, no
/// script and nothing fetched; a print stylesheet. Rendered with swift-mustache from
/// `ReportTemplate.page`.
public enum ReportPage {
    public static func html(_ report: CampaignReport, generatedAt: Date = Date()) throws -> String {
        let template = try MustacheTemplate(string: ReportTemplate.page)
        return template.render(context(report, generatedAt: generatedAt))
    }

    static func context(_ report: CampaignReport, generatedAt: Date) -> [String: Any] {
        let sent = report.counts["sent"] ?? 0
        let delivered = (report.delivery["delivered"] ?? 0) + (report.delivery["fallback"] ?? 0)
        let tiles: [[String: String]] = [
            ["label": "rows", "value": number(report.funnel.first?.count ?? 0)],
            ["label": "sent", "value": number(sent)],
            ["label": "delivered", "value": number(delivered)],
            ["label": "delivery rate", "value": report.deliveryRate.map(percent) ?? "–"],
            ["label": "read", "value": number(report.delivery["read"] ?? 0)],
            ["label": "in doubt", "value": number(report.counts["in_doubt"] ?? 0)],
            ["label": "spent", "value": "$\(report.spend.spent)"],
            ["label": "median to delivery", "value": report.latency.p50Ms.map(duration) ?? "–"],
        ]
        let funnel = Charts.bars(
            id: "funnel", title: "Funnel", description: report.funnel.map { "\($0.label) \($0.count)" }.joined(separator: ", "),
            labels: report.funnel.map(\.label), values: report.funnel.map { Double($0.count) },
            text: report.funnel.map { number($0.count) })
        let timeline = Charts.columns(
            id: "timeline", title: "Sent and delivered per \(report.bucket)",
            description: "\(report.timeline.count) \(report.bucket)s; most sent in one: \(report.timeline.map(\.sent).max() ?? 0)",
            labels: report.timeline.map { short($0.at, hour: report.bucket == "hour") },
            series: [Charts.Series(name: "sent", values: report.timeline.map { Double($0.sent) }),
                     Charts.Series(name: "delivered", values: report.timeline.map { Double($0.delivered) })])
        let latency = Charts.columns(
            id: "latency", title: "Time from send to delivery",
            description: "p50 \(report.latency.p50Ms.map(duration) ?? "–"), p90 \(report.latency.p90Ms.map(duration) ?? "–"), "
                + "p99 \(report.latency.p99Ms.map(duration) ?? "–")",
            labels: report.latency.buckets.map { "≤ " + duration(Int64($0.label) ?? 0) },
            series: [Charts.Series(name: "messages", values: report.latency.buckets.map { Double($0.count) })])
        let rated = report.countries.filter { $0.sent > 0 }
        let rates = Charts.bars(
            id: "rates", title: "Delivery rate by country",
            description: rated.map { "\($0.country) \($0.deliveryRate.map(percent) ?? "–")" }.joined(separator: ", "),
            labels: rated.map(\.country), values: rated.map { $0.deliveryRate ?? 0 },
            text: rated.map { "\($0.deliveryRate.map(percent) ?? "–") of \(number($0.sent))" })
        return [
            "header": [
                "campaign": report.header.campaign, "provider": report.header.provider, "channel": report.header.channel,
                "state": report.header.state, "started": report.header.startedAt ?? "not started",
                "ended": report.header.endedAt ?? "–",
            ],
            "generated": ISO8601DateFormatter().string(from: generatedAt),
            "tiles": tiles,
            "funnel": funnel, "timeline": timeline, "hasTimeline": !report.timeline.isEmpty,
            "latency": latency, "hasLatency": !report.latency.buckets.isEmpty,
            "p50": report.latency.p50Ms.map(duration) ?? "–", "p90": report.latency.p90Ms.map(duration) ?? "–",
            "p99": report.latency.p99Ms.map(duration) ?? "–",
            "rates": rates, "hasRates": !rated.isEmpty,
            "spend": [
                "estimated": "$\(report.spend.estimated)", "reserved": "$\(report.spend.reserved)",
                "spent": "$\(report.spend.spent)", "reported": report.spend.providerReported.map { "$\($0)" } ?? "not reported",
            ],
            "countries": report.countries.map {
                ["country": $0.country, "sent": number($0.sent), "estimated": "$\($0.estimated)", "spent": "$\($0.spent)",
                 "reported": $0.providerReported.map { "$\($0)" } ?? "–"]
            },
            "providers": report.providers.map {
                ["name": $0.name, "kind": $0.kind, "sent": number($0.sent), "failed": number($0.failed),
                 "inDoubt": number($0.inDoubt), "delivered": number($0.delivered),
                 "rate": $0.deliveryRate.map(percent) ?? "–", "cost": "$\($0.cost)"]
            },
            "hasProviders": !report.providers.isEmpty,
            "languages": report.languages.map {
                ["language": $0.language, "sent": number($0.sent), "failed": number($0.failed), "skipped": number($0.skipped),
                 "delivered": number($0.delivered), "rate": $0.deliveryRate.map(percent) ?? "–", "cost": "$\($0.cost)"]
            },
            "hasLanguages": !report.languages.isEmpty,
            "switches": report.switches.map {
                ["from": $0.from, "to": $0.to, "reason": $0.reason, "rows": number($0.rows), "first": $0.first, "last": $0.last]
            },
            "hasSwitches": !report.switches.isEmpty,
            "reasons": report.reasons.map {
                ["state": $0.state, "reason": $0.reason, "count": number($0.count),
                 "examples": $0.examples.map(String.init).joined(separator: ", ")]
            },
            "hasReasons": !report.reasons.isEmpty,
            "inDoubt": report.inDoubt.map { ["row": String($0.row), "reason": $0.reason, "detail": $0.detail ?? ""] },
            "hasDoubt": !report.inDoubt.isEmpty,
        ]
    }

    static func number(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return out
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds < 120_000 { return String(format: "%.1f s", Double(milliseconds) / 1000) }
        if milliseconds < 7_200_000 { return String(format: "%.0f min", Double(milliseconds) / 60_000) }
        return String(format: "%.1f h", Double(milliseconds) / 3_600_000)
    }

    /// `2026-11-30T09:41:00Z` as `09:41` (or `30 09h` per hour).
    static func short(_ iso: String, hour: Bool) -> String {
        let time = iso.split(separator: "T").last.map(String.init) ?? iso
        return hour ? String(iso.dropFirst(8).prefix(2)) + " " + String(time.prefix(2)) + "h" : String(time.prefix(5))
    }
}
