import Foundation
import HeraldCore
import HeraldJournal

/// What `herald report` shows, as values: the HTML page, the JSON and (later) the live
/// dashboard all render this. Aggregates only: its size does not grow with the rows.
public struct CampaignReport: Codable, Sendable {
    public struct Header: Codable, Sendable {
        public var campaign: String
        public var provider: String
        public var channel: String
        public var state: String
        public var startedAt: String?
        public var endedAt: String?
    }

    public struct Step: Codable, Sendable {
        public var label: String
        public var count: Int
    }

    public struct Bucket: Codable, Sendable {
        public var at: String
        public var sent: Int
        public var delivered: Int
    }

    public struct Latency: Codable, Sendable {
        /// Upper bound of each bucket in milliseconds, and its messages.
        public var buckets: [Step]
        public var p50Ms: Int64?
        public var p90Ms: Int64?
        public var p99Ms: Int64?
    }

    public struct Country: Codable, Sendable {
        public var country: String
        public var sent: Int
        public var delivered: Int
        public var deliveryRate: Double?
        public var estimated: Money
        public var spent: Money
        public var providerReported: Money?
    }

    /// One provider of a campaign with several (`providers:`).
    public struct Provider: Codable, Sendable {
        public var name: String
        public var kind: String
        public var sent: Int
        public var failed: Int
        public var inDoubt: Int
        public var delivered: Int
        public var deliveryRate: Double?
        /// Herald's price of its rows sent or in doubt.
        public var cost: Money
    }

    /// Rows moved from one provider to another (failover), for one reason.
    public struct Language: Codable, Sendable {
        public var language: String
        public var sent: Int
        public var failed: Int
        public var skipped: Int
        public var delivered: Int
        public var deliveryRate: Double?
        public var cost: Money
    }

    public struct Switch: Codable, Sendable {
        public var from: String
        public var to: String
        public var reason: String
        public var rows: Int
        public var first: String
        public var last: String
    }

    public struct Spend: Codable, Sendable {
        public var estimated: Money
        public var reserved: Money
        public var spent: Money
        public var providerReported: Money?
    }

    public struct ReasonCount: Codable, Sendable {
        public var state: String
        public var reason: String
        public var count: Int
        /// A few CSV line numbers.
        public var examples: [Int]
    }

    public struct Doubt: Codable, Sendable {
        public var row: Int
        public var reason: String
        public var detail: String?
    }

    public var header: Header
    public var funnel: [Step]
    /// Per minute, or per hour when sending spanned more than six hours.
    public var timeline: [Bucket]
    public var bucket: String
    public var latency: Latency
    public var spend: Spend
    public var countries: [Country]
    /// Per provider, in the campaign file's order; empty for a campaign with one provider.
    public var providers: [Provider] = []
    public var switches: [Switch] = []
    /// Per language of a template with variants, in its file's order; empty without.
    public var languages: [Language] = []
    public var reasons: [ReasonCount]
    public var inDoubt: [Doubt]
    public var counts: [String: Int]
    public var delivery: [String: Int]
    public var deliveryRate: Double?

    /// Reads everything from the journal (counters, the ledger, one pass over the rows).
    /// `routes` names the providers of a campaign with several (name and kind, in the file's
    /// order); empty for one provider.
    public static func load(journal: any ReportingJournal, record: CampaignRecord, provider: String,
                            routes: [(name: String, kind: String)] = [], languages: [String] = []) throws -> CampaignReport {
        let cid = record.cid
        let counts = try journal.counts(cid: cid)
        let summary = try journal.deliverySummary(cid: cid)
        let aggregates = try journal.reportAggregates(cid: cid, examplesPerReason: 5)
        let ledger = try journal.ledger(cid: cid)
        let span = try journal.runSpan(cid: cid)
        let sent = counts[.sent]
        let rowProblems: Set<Reason> = [.malformedRow, .invalidUTF8, .badNumber, .missingValue, .invalidValue, .duplicate,
                                        .tooLong, .noPrice, .noRoute, .badTimezone, .noTimezone, .invalidContent]
        let invalid = counts.byReason.filter { rowProblems.contains($0.key) }.values.reduce(0, +)
        let funnel = [
            Step(label: "rows", count: counts.total), Step(label: "valid", count: counts.total - invalid),
            Step(label: "sent", count: sent), Step(label: "delivered", count: summary[.delivered] + summary[.fallback]),
            Step(label: "read", count: summary.read),
        ]
        let times = Set(aggregates.sends.keys).union(aggregates.deliveries.keys).sorted()
        let timeline = times.map { Bucket(at: iso($0), sent: aggregates.sends[$0] ?? 0, delivered: aggregates.deliveries[$0] ?? 0) }
        var reasons: [ReasonCount] = []
        for (state, byReason) in [("skipped or failed", counts.byReason), ("in doubt", counts.inDoubtByReason),
                                  ("waiting", counts.waitingByReason)] {
            for (reason, count) in byReason.sorted(by: { $0.value == $1.value ? $0.key.rawValue < $1.key.rawValue : $0.value > $1.value }) {
                reasons.append(ReasonCount(state: state, reason: reason.rawValue, count: count,
                                           examples: aggregates.examples[reason.rawValue] ?? []))
            }
        }
        // Rows the campaign stopped before (its budget, --limit, a signal, a pause): still
        // pending, listed with why, so that a budget's stop shows as rows, not a word.
        if counts[.pending] > 0, let why = Self.unsentReason(record) {
            reasons.append(ReasonCount(state: "not sent", reason: why, count: counts[.pending],
                                       examples: try journal.rows(cid: cid, in: .pending, limit: 5).map(\.row)))
        }
        let reported = aggregates.countries.compactMap(\.reported)
        let totals = routes.isEmpty ? [] : try journal.routeTotals(cid: cid)
        let providers = routes.enumerated().map { index, route in
            let line = totals.first { $0.route == index } ?? RouteTotals(route: index)
            return Provider(name: route.name, kind: route.kind, sent: line[.sent], failed: line[.failed], inDoubt: line[.inDoubt],
                            delivered: line.delivered,
                            deliveryRate: line[.sent] == 0 || line.delivered + line.undelivered == 0 ? nil
                                : Double(line.delivered) / Double(line[.sent]), cost: Money(nanos: line.cost))
        }
        var report = CampaignReport(
            header: Header(campaign: record.name, provider: provider, channel: record.channel.rawValue, state: record.state.rawValue,
                           startedAt: span.start.map(iso), endedAt: span.end.map(iso)),
            funnel: funnel, timeline: timeline, bucket: aggregates.bucketMilliseconds == 60_000 ? "minute" : "hour",
            latency: Latency(buckets: summary.latency.map { Step(label: String($0.upper), count: $0.count) },
                             p50Ms: summary.latencyPercentile(0.5), p90Ms: summary.latencyPercentile(0.9),
                             p99Ms: summary.latencyPercentile(0.99)),
            spend: Spend(estimated: Money(nanos: aggregates.estimated), reserved: ledger.reduce(.zero) { $0 + $1.reserved },
                         spent: ledger.reduce(.zero) { $0 + $1.spent },
                         providerReported: reported.isEmpty ? nil : Money(nanos: reported.reduce(0, +))),
            countries: aggregates.countries.map {
                Country(country: $0.region, sent: $0.sent, delivered: $0.delivered,
                        deliveryRate: $0.sent == 0 || summary.finals == 0 ? nil : Double($0.delivered) / Double($0.sent),
                        estimated: Money(nanos: $0.estimated), spent: Money(nanos: $0.spent),
                        providerReported: $0.reported.map { Money(nanos: $0) })
            },
            reasons: reasons,
            inDoubt: try journal.rows(cid: cid, in: .inDoubt, limit: 100).map {
                Doubt(row: $0.row, reason: $0.reason?.rawValue ?? "interrupted", detail: $0.detail)
            },
            counts: Dictionary(uniqueKeysWithValues: MessageState.allCases.map { ($0.name, counts[$0]) }),
            delivery: Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, summary[$0]) } + [("read", summary.read)]),
            deliveryRate: summary.deliveryRate(sent: sent))
        report.providers = providers
        if !languages.isEmpty {
            let totals = try journal.languageTotals(cid: cid)
            report.languages = (languages + totals.map(\.language).filter { !languages.contains($0) }).map { code in
                let line = totals.first { $0.language == code } ?? LanguageTotals(language: code)
                return Language(language: code, sent: line[.sent], failed: line[.failed], skipped: line[.skipped],
                                delivered: line.delivered,
                                deliveryRate: line[.sent] == 0 || line.delivered + line.undelivered == 0 ? nil
                                    : Double(line.delivered) / Double(line[.sent]), cost: Money(nanos: line.cost))
            }
        }
        if !routes.isEmpty {
            func name(_ index: Int) -> String { routes.indices.contains(index) ? routes[index].name : "#\(index + 1)" }
            report.switches = try journal.routeSwitches(cid: cid).map {
                Switch(from: name($0.from), to: name($0.to), reason: $0.reason, rows: $0.rows, first: iso($0.first), last: iso($0.last))
            }
        }
        return report
    }

    /// Why a stopped campaign's pending rows were not sent; nil while it is being imported or sent.
    static func unsentReason(_ record: CampaignRecord) -> String? {
        switch record.state {
        case .importing, .ready, .running, .completed, .cancelled: return nil
        case .budgetExhausted: return "budget_exhausted"
        case .paused: return "paused"
        case .scheduled: return "scheduled"
        case .stopped:
            switch record.stopKind {
            case .budget: return "budget_exhausted"
            case .limit: return "limit"
            case .signal: return "stopped"
            case .providerRefused: return "provider_refused"
            case .paused: return "paused"
            case .cancelled, nil: return "stopped"
            }
        }
    }

    static func iso(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
