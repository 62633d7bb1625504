import Foundation
import HeraldCore
import HeraldJournal
import HeraldSQLite

/// A campaign's standing as `herald status` shows it (and prints with `--json`).
public struct CampaignStatus: Codable, Sendable {
    public struct Lease: Codable, Sendable {
        public let pid: Int
        public let host: String
        public let heartbeat: String
    }

    /// A row whose outcome is unknown, and why.
    public struct Doubt: Codable, Sendable {
        public let row: Int
        /// `interrupted` (its process died while sending it) or `lost_answer`.
        public let reason: String
        public let detail: String?
    }

    public let campaign: String
    /// `real`, `simulation` or `dry_run`.
    public let mode: String
    public let state: String
    public let campaignFile: String
    public let total: Int
    /// Every message state, zero included.
    public let counts: [String: Int]
    /// Skipped and failed rows by reason.
    public let reasons: [String: Int]
    /// CSV lines of rows in doubt (first 100).
    public let inDoubtRows: [Int]
    /// The same rows with why each is in doubt.
    public let inDoubt: [Doubt]
    /// In-doubt rows by reason (all of them, from the counters).
    public let inDoubtReasons: [String: Int]
    /// Rows waiting to be sent again, by reason (`window`, `throttled`, `transient`...).
    public let waiting: [String: Int]
    public let updatedAt: String
    public let lease: Lease?
    /// Why the last run stopped early, if it did.
    public let stopReason: String?
    /// A pause or cancel asked for and not yet taken: `herald pause` or `cancel` while a sender
    /// holds the campaign (it takes it at its next look), or on PostgreSQL while a killed
    /// sender's lease has not run out (the next open takes it).
    public let requested: String?
    /// When the earliest waiting row (a retry, or a recipient outside their send window) falls due.
    public let nextSendAt: String?
    /// While it runs: when its rows not yet sent would all be sent at its rate, each inside its
    /// recipients' send window (the sender's own ETA); nil without a rate or campaign file.
    public var finishesAt: String?
    public let spend: Spend
    public let delivery: Delivery
    /// Per provider, for a campaign with several (`providers:`); nil otherwise.
    public let providers: [ProviderLine]?
    /// Rows moved from one provider to another (failover), by from, to and reason; nil
    /// where `providers` is.
    public let switches: [Switch]?
    /// Per identity of the providers' sender pools (`senders:`); nil without pools.
    public var senders: [SenderLine]?
    /// Providers a sender of the campaign demoted whose cool-down has not ended (every sender
    /// leaves them alone until then); nil where `providers` is, or when none is.
    public var demoted: [Demotion]?

    /// A provider left alone until its cool-down ends.
    public struct Demotion: Codable, Sendable, Equatable {
        public let provider: String
        public let until: String
        public let reason: String
    }
    /// Per language of a template with variants (`language:`); nil without.
    public var languages: [LanguageLine]?

    /// What went out in one language.
    public struct LanguageLine: Codable, Sendable, Equatable {
        public let language: String
        public let sent: Int
        public let failed: Int
        public let skipped: Int
        public let inDoubt: Int
        /// Pending, claimed or waiting for a retry.
        public let open: Int
        public let cost: Money
        public let delivered: Int
        public let undelivered: Int

        enum CodingKeys: String, CodingKey {
            case language, sent, failed, skipped, open, cost, delivered, undelivered
            case inDoubt = "in_doubt"
        }

        /// A line for every language of the template (one no row took shows zeros), then any
        /// other the journal holds (a variant since removed from the file).
        static func lines(codes: [String], totals: [LanguageTotals]) -> [LanguageLine] {
            let all = codes + totals.map(\.language).filter { !codes.contains($0) }
            return all.map { code in
                let line = totals.first { $0.language == code } ?? LanguageTotals(language: code)
                return LanguageLine(language: code, sent: line[.sent], failed: line[.failed], skipped: line[.skipped],
                                    inDoubt: line[.inDoubt], open: line[.pending] + line[.sending] + line[.retry],
                                    cost: Money(nanos: line.cost), delivered: line.delivered, undelivered: line.undelivered)
            }
        }
    }

    /// What went from one identity of a sender pool.
    public struct SenderLine: Codable, Sendable, Equatable {
        /// The provider's name (its entry's `name`, or its kind).
        public let provider: String
        public let id: String
        public let sent: Int
        public let failed: Int
        public let inDoubt: Int
        /// Claimed at least once and not settled yet (sending, waiting for a retry).
        public let open: Int

        enum CodingKeys: String, CodingKey {
            case provider, id, sent, failed, open
            case inDoubt = "in_doubt"
        }

        static func lines(spec: CampaignSpec, totals: [SenderTotals]) -> [SenderLine] {
            spec.routes.enumerated().flatMap { route, entry in
                (entry.pool?.identities ?? []).enumerated().map { index, identity in
                    let line = totals.first { $0.route == route && $0.sender == index } ?? SenderTotals(route: route, sender: index)
                    return SenderLine(provider: entry.name, id: identity.id, sent: line[.sent], failed: line[.failed],
                                      inDoubt: line[.inDoubt], open: line[.pending] + line[.sending] + line[.retry])
                }
            }
        }
    }

    /// Rows moved between two providers for one reason.
    public struct Switch: Codable, Sendable, Equatable {
        public let from: String
        public let to: String
        /// `unreached`, `campaign_refused`, `throttled` (while demoted) or `demoted` (moved unsent).
        public let reason: String
        public let rows: Int
        public let first: String
        public let last: String

        static func list(spec: CampaignSpec, _ switches: [RouteSwitchSummary]) -> [Switch] {
            func name(_ index: Int) -> String { spec.routes.indices.contains(index) ? spec.routes[index].name : "#\(index + 1)" }
            return switches.map {
                Switch(from: name($0.from), to: name($0.to), reason: $0.reason, rows: $0.rows, first: iso($0.first), last: iso($0.last))
            }
        }
    }

    /// What went through one provider of the campaign.
    public struct ProviderLine: Codable, Sendable, Equatable {
        public let name: String
        public let kind: String
        public let sent: Int
        public let failed: Int
        public let skipped: Int
        public let inDoubt: Int
        /// Pending, claimed or waiting for a retry.
        public let open: Int
        /// Herald's price of its rows sent or in doubt.
        public let cost: Money
        public let delivered: Int
        public let undelivered: Int
        /// Of `cost`, what its RCS attempts of rows that then fell back to SMS through another
        /// provider cost (`sms_fallback:`); nil when none did.
        public var fellBackCost: Money?

        enum CodingKeys: String, CodingKey {
            case name, kind, sent, failed, skipped, open, cost, delivered, undelivered
            case inDoubt = "in_doubt"
            case fellBackCost = "fell_back_cost"
        }

        /// Lines for every provider of `spec`, from the journal's totals (a provider that took
        /// no row shows zeros).
        static func lines(spec: CampaignSpec, totals: [RouteTotals]) -> [ProviderLine] {
            spec.routes.enumerated().map { index, route in
                let line = totals.first { $0.route == index } ?? RouteTotals(route: index)
                return ProviderLine(name: route.name, kind: route.provider.kind.name, sent: line[.sent], failed: line[.failed],
                                    skipped: line[.skipped], inDoubt: line[.inDoubt],
                                    open: line[.pending] + line[.sending] + line[.retry], cost: Money(nanos: line.cost),
                                    delivered: line.delivered, undelivered: line.undelivered,
                                    fellBackCost: line.fellBackCost > 0 ? Money(nanos: line.fellBackCost) : nil)
            }
        }
    }

    /// What the delivery receipts say (counters; `herald receipts`).
    public struct Delivery: Codable, Sendable {
        public let delivered: Int
        public let undelivered: Int
        /// Undelivered messages by the provider's code.
        public let undeliveredByCode: [String: Int]
        public let expired: Int
        public let fallback: Int
        /// No final event within the receipt timeout (or the provider said unknown).
        public let unknown: Int
        public let read: Int
        /// Sent messages with no final event yet.
        public let waitingForReceipt: Int
        /// Delivered (fallback included) out of sent; nil before anything was sent.
        public let deliveryRate: Double?
        /// Send-to-delivery time, milliseconds (histogram bucket bounds, ~9% wide).
        public let medianMs: Int64?
        public let p90Ms: Int64?
        /// In-doubt rows attempted within the last 15 minutes: `--resend-in-doubt`
        /// leaves them until the receipt grace has passed.
        public let inDoubtWithinGrace: Int
        /// What the provider reported it charged (AWS), beside herald's own count.
        public let providerReportedCost: Money?

        enum CodingKeys: String, CodingKey {
            case delivered, undelivered, expired, fallback, unknown, read
            case undeliveredByCode = "undelivered_by_code"
            case waitingForReceipt = "waiting_for_receipt"
            case deliveryRate = "delivery_rate"
            case medianMs = "median_ms"
            case p90Ms = "p90_ms"
            case inDoubtWithinGrace = "in_doubt_within_grace"
            case providerReportedCost = "provider_reported_cost"
        }
    }

    /// Spend against each budget limit (amounts as decimal strings, USD).
    public struct Spend: Codable, Sendable {
        /// Accepted by the provider.
        public let spent: Money
        /// Reserved by messages in flight or in doubt (counted against the limits).
        public let reserved: Money
        public let maxPrice: Money?
        public let campaignLimit: Money?
        public let monthlyLimit: Money?
        /// This month's spend (UTC) in the campaign's channel, across campaigns of its scope.
        public let month: Int
        public let monthSpent: Money

        enum CodingKeys: String, CodingKey {
            case spent, reserved, month
            case maxPrice = "max_price"
            case campaignLimit = "campaign_limit"
            case monthlyLimit = "monthly_limit"
            case monthSpent = "month_spent"
        }
    }

    enum CodingKeys: String, CodingKey {
        case campaign, mode, state, total, counts, reasons, lease, spend, waiting, delivery, providers, switches, senders, languages, demoted
        case inDoubt = "in_doubt"
        case inDoubtReasons = "in_doubt_reasons"
        case stopReason = "stop_reason"
        case requested
        case nextSendAt = "next_send_at"
        case finishesAt = "finishes_at"
        case campaignFile = "campaign_file"
        case inDoubtRows = "in_doubt_rows"
        case updatedAt = "updated_at"
    }

    /// Statuses of one campaign (by id) or of every campaign in the journal.
    /// Reads only counters and indexes: it costs the same at ten million rows as at ten.
    /// Per-provider lines take one pass over a routed campaign's rows, and a running campaign's
    /// finish one over its unsent rows' zones (about a second at two million on SQLite):
    /// `providers` says for which campaigns (by name) to take them (the dashboard keeps them a while).
    public static func load(journalPath: String, id: String?, providers: (String) -> Bool = { _ in true }) throws -> [CampaignStatus] {
        let journal = try JournalOpener.open(journalPath, create: false)
        let records: [CampaignRecord]
        if let id {
            let key = CampaignKey(parsing: id)
            guard let record = try journal.campaign(id: key.id, mode: key.mode) else {
                throw JournalError.unknownCampaign(id, path: journalPath)
            }
            records = [record]
        } else {
            records = try journal.campaigns()
        }
        return try records.map { record in
            let detailed = providers(record.name)
            let spec = detailed ? try? CampaignSpec.load(path: record.campaignPath) : nil
            let routed = try spec.flatMap { try providerLines(journal, spec: $0, cid: record.cid) }
            let counts = try journal.counts(cid: record.cid)
            let doubt = try journal.rows(cid: record.cid, in: .inDoubt, limit: 100)
            var byState: [String: Int] = [:]
            for state in MessageState.allCases { byState[state.name] = counts[state] }
            let lease = record.leasePID.map {
                Lease(pid: $0, host: record.leaseHost ?? "", heartbeat: iso(record.leaseHeartbeat ?? 0))
            }
            let ledger = try journal.ledger(cid: record.cid)
            let month = BillingMonth.of(milliseconds: journal.currentTime())
            let spend = Spend(
                spent: ledger.reduce(.zero) { $0 + $1.spent }, reserved: ledger.reduce(.zero) { $0 + $1.reserved },
                maxPrice: record.limits.maxPrice, campaignLimit: record.limits.campaignLimit,
                monthlyLimit: record.limits.monthlyLimit, month: month,
                monthSpent: try journal.monthSpend(month: month, channel: record.channel, scope: record.ledgerScope))
            var status = CampaignStatus(
                campaign: record.name, mode: record.mode.rawValue, state: record.state.rawValue,
                campaignFile: record.campaignPath, total: counts.total, counts: byState,
                reasons: codes(counts.byReason), inDoubtRows: doubt.map(\.row),
                inDoubt: doubt.map { Doubt(row: $0.row, reason: $0.reason?.rawValue ?? "interrupted", detail: $0.detail) },
                inDoubtReasons: codes(counts.inDoubtByReason), waiting: codes(counts.waitingByReason),
                updatedAt: iso(record.updatedAt), lease: lease, stopReason: record.stopReason,
                requested: requested(record),
                nextSendAt: try journal.nextRetry(cid: record.cid).map(iso), spend: spend,
                delivery: try delivery(journal, cid: record.cid, sent: counts[.sent]),
                providers: routed?.lines, switches: routed?.switches)
            if let spec, spec.isRouted, case let demotions = try journal.sharedDemotions(cid: record.cid), !demotions.isEmpty {
                status.demoted = demotions.map { demotion in
                    Demotion(provider: spec.routes.indices.contains(demotion.route) ? spec.routes[demotion.route].name : "#\(demotion.route + 1)",
                             until: iso(demotion.until), reason: demotion.reason)
                }
            }
            if let spec, record.state == .running, let rate = CampaignRunner.claimRate(spec) {
                let finish = ETA.finish(try journal.remainingByZone(cid: record.cid), window: spec.schedule.window,
                                        rate: rate, now: Date())
                status.finishesAt = finish.map { iso(Int64(($0.timeIntervalSince1970 * 1000).rounded())) }
            }
            if let spec, spec.senders.hasPools {
                status.senders = SenderLine.lines(spec: spec, totals: try journal.senderTotals(cid: record.cid))
            }
            if let spec, let languages = (try? TemplateFile.load(path: spec.templatePath))?.languages {
                status.languages = LanguageLine.lines(codes: languages.codes, totals: try journal.languageTotals(cid: record.cid))
            }
            return status
        }
    }

    /// The control word a campaign has not taken yet (a completed campaign has nothing left to take).
    static func requested(_ record: CampaignRecord) -> String? {
        guard let control = record.control, record.state != .completed else { return nil }
        switch control {
        case .cancel: return record.state == .cancelled ? nil : control.rawValue
        case .pause: return record.state == .paused ? nil : control.rawValue
        }
    }

    /// Per provider, and the rows moved between them, when the campaign file (still readable)
    /// lists several.
    static func providerLines(_ journal: any CampaignJournal, spec: CampaignSpec, cid: Int64) throws
        -> (lines: [ProviderLine], switches: [Switch])?
    {
        guard spec.isRouted else { return nil }
        return (ProviderLine.lines(spec: spec, totals: try journal.routeTotals(cid: cid)),
                Switch.list(spec: spec, try journal.routeSwitches(cid: cid)))
    }

    /// Receipt events that matched no message, by provider.
    public static func unmatchedReceipts(journalPath: String) throws -> [String: Int] {
        guard JournalOpener.exists(journalPath) else { return [:] }
        return try JournalOpener.receipts(journalPath, create: false).unmatchedReceipts()
    }

    /// Replies from recipients the receipts brought, by provider.
    public static func replies(journalPath: String) throws -> [String: Int] {
        guard JournalOpener.exists(journalPath) else { return [:] }
        return try JournalOpener.receipts(journalPath, create: false).replyCounts()
    }

    /// What the receipts say of the campaign (both journals keep them).
    private static func delivery(_ store: any CampaignJournal, cid: Int64, sent: Int) throws -> Delivery {
        guard let journal = store as? any ReceiptJournal else {
            return Delivery(delivered: 0, undelivered: 0, undeliveredByCode: [:], expired: 0, fallback: 0, unknown: 0, read: 0,
                            waitingForReceipt: sent, deliveryRate: nil, medianMs: nil, p90Ms: nil, inDoubtWithinGrace: 0,
                            providerReportedCost: nil)
        }
        let summary = try journal.deliverySummary(cid: cid)
        return Delivery(
            delivered: summary[.delivered], undelivered: summary[.undelivered], undeliveredByCode: summary.undeliveredByCode,
            expired: summary[.expired], fallback: summary[.fallback], unknown: summary[.unknown], read: summary.read,
            waitingForReceipt: summary.waiting(sent: sent), deliveryRate: summary.deliveryRate(sent: sent),
            medianMs: summary.latencyPercentile(0.5), p90Ms: summary.latencyPercentile(0.9),
            inDoubtWithinGrace: try journal.inDoubtWithinGrace(cid: cid, since: journal.currentTime() - 15 * 60_000),
            providerReportedCost: try journal.reportedCost(cid: cid))
    }

    private static func codes(_ counts: [Reason: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
