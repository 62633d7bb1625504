import Foundation
import HeraldCore
import HeraldSettings
import HeraldJournal
import HeraldSQLite

/// What `herald estimate` reports: computed offline from the files (and, when the
/// campaign is already in the journal, what it has sent), never sending or writing.
public struct Estimate: Codable, Sendable {
    public struct CountryLine: Codable, Sendable {
        public let country: String
        public let channel: String
        public var messages = 0
        public var parts = 0
        public var cost = Money.zero
    }

    /// What goes through one provider of a campaign with several (`providers:`).
    public struct ProviderLine: Codable, Sendable {
        public let name: String
        /// Its kind (`aws`, `twilio`, ...).
        public let kind: String
        public var messages = 0
        public var parts = 0
        public var cost = Money.zero
    }

    /// `sms_fallback:`: what the SMS would add if every RCS message sent through `from` failed
    /// and went through `to` (the most the fallbacks can cost).
    public struct FallbackLine: Codable, Sendable {
        public let from: String
        public let to: String
        public var messages = 0
        public var parts = 0
        public var cost = Money.zero
        /// Rows the SMS provider's book has no SMS price for: they would stay undelivered.
        public var unpriced = 0
    }

    /// Rows whose send window opens at one time.
    public struct WindowLine: Codable, Sendable, Equatable {
        /// When their window opens (ISO 8601); nil: open when the campaign starts.
        public var opensAt: String?
        public var rows: Int

        enum CodingKeys: String, CodingKey {
            case opensAt = "opens_at"
            case rows
        }
    }

    /// What goes out in one language of a template with variants (`language:`).
    public struct LanguageLine: Codable, Sendable {
        public let language: String
        public var messages = 0
        public var parts = 0
        public var cost = Money.zero
    }

    /// What goes from one identity of a provider's sender pool (`senders:`): the rows whose
    /// recipients were last sent from it (the journal's memory), or else prefer it (sticky
    /// sender), moved on to the next when its daily cap is full.
    public struct SenderLine: Codable, Sendable {
        public let provider: String
        public let id: String
        public let messagesPerSecond: Double?
        public let dailyCap: Int?
        public var messages = 0
        /// Units as its rate and cap count them (SMS parts, else messages).
        public var units = 0

        /// Seconds its units take at its rate; nil without a rate.
        public var seconds: Double? { messagesPerSecond.map { Double(units) / $0 } }

        enum CodingKeys: String, CodingKey {
            case provider, id, messages, units
            case messagesPerSecond = "messages_per_second"
            case dailyCap = "daily_cap"
        }
    }

    /// What `smart_encoding: true` saved: rows whose text it changed, and the parts and money
    /// their GSM-7 look-alikes saved against the text as written.
    public struct SmartSaving: Codable, Sendable {
        public var rowsChanged = 0
        public var partsSaved = 0
        public var costSaved = Money.zero

        enum CodingKeys: String, CodingKey {
            case rowsChanged = "rows_changed"
            case partsSaved = "parts_saved"
            case costSaved = "cost_saved"
        }
    }

    /// One top-level clause of `where:` and the rows it leaves out.
    public struct ClauseLine: Codable, Sendable {
        public let clause: String
        public var removes = 0
    }

    public struct EncodingLine: Codable, Sendable {
        public var messages = 0
        public var parts = 0
    }

    /// Where a limit stops the campaign, sending in file order.
    public struct LimitStop: Codable, Sendable {
        public let limit: String
        public let amount: Money
        /// Spent or reserved before this estimate (this campaign, or this month in the scope).
        public let alreadySpent: Money
        /// Messages sent before the limit stops the campaign (all of them when it never does).
        public let messagesBeforeStop: Int
        /// The CSV line of the first message that would not fit; nil when everything fits.
        public let stopsAtLine: Int?
        public let costBeforeStop: Money

        enum CodingKeys: String, CodingKey {
            case limit, amount
            case alreadySpent = "already_spent"
            case messagesBeforeStop = "messages_before_stop"
            case stopsAtLine = "stops_at_line"
            case costBeforeStop = "cost_before_stop"
        }
    }

    public let campaign: String
    /// The template's channel (`sms`, `rcs`, ...).
    public var channel = Channel.sms.rawValue
    public var rows = 0
    /// Invalid rows by reason (`bad_number`, `no_price`, `too_long`, ...).
    public var invalid: [String: Int] = [:]
    public var duplicates = 0
    /// Rows the journal already records as sent, in flight or in doubt (from its counters).
    public var alreadySent = 0
    /// Rows left out because the journal has already dealt with them: sent, failed,
    /// skipped when claimed, in flight or in doubt. Rows waiting for a retry or their
    /// send window are still to send.
    public var alreadyHandled = 0
    public var overMaxPrice = 0
    /// Rows `where:` leaves out (never sent, never charged), and per top-level clause of it, how
    /// many rows it leaves out (a row failing two clauses counts for both).
    public var filtered = 0
    public var byClause: [ClauseLine] = []
    /// With `smart_encoding: true`, what it saved.
    public var smartEncoding: SmartSaving?
    /// The characters that make rows to send UCS-2 (after smart encoding, when it is on).
    public var ucs2Characters: [UCS2Culprits.Culprit] = []
    /// Rows whose number is on the journal's suppression list.
    public var suppressed = 0
    /// Rows whose recipient already reached the campaign's frequency cap.
    public var frequencyCapped = 0
    /// Messages to send and their parts.
    public var messages = 0
    public var parts = 0
    public var byEncoding: [String: EncodingLine] = [:]
    public var byCountry: [CountryLine] = []
    /// Per provider, in the file's order; empty for a campaign with one provider.
    public var byProvider: [ProviderLine] = []
    /// `sms_fallback:` entries: the most their SMS could add.
    public var smsFallback: [FallbackLine] = []
    /// With a send window: how many rows may go when the campaign starts (`opensAt` nil) and how
    /// many wait for their window, by when it opens; empty without a window.
    public var windows: [WindowLine] = []
    /// Per language of a template with variants, in its file's order; empty without.
    public var byLanguage: [LanguageLine] = []
    /// The routing strategy of a campaign with several providers.
    public var routing: String?
    /// Per identity of the providers' sender pools; empty without pools.
    public var bySender: [SenderLine] = []
    /// Rows every identity of their pool would refuse today (daily caps, counting from zero):
    /// they wait for a later UTC day.
    public var beyondDailyCaps = 0
    public var total = Money.zero
    public var limits: [LimitStop] = []
    /// Send duration at the campaign's rate; nil without a rate.
    public var durationSeconds: Double?
    public var durationNote = ""
    /// When the campaign would finish if started now (ISO 8601), with a rate.
    public var finishesAt: String?

    enum CodingKeys: String, CodingKey {
        case campaign, channel, rows, invalid, duplicates, messages, parts, total, limits
        case alreadySent = "already_sent"
        case alreadyHandled = "already_handled"
        case overMaxPrice = "over_max_price"
        case filtered
        case byClause = "by_clause"
        case smartEncoding = "smart_encoding"
        case ucs2Characters = "ucs2_characters"
        case suppressed
        case frequencyCapped = "frequency_capped"
        case byEncoding = "by_encoding"
        case byCountry = "by_country"
        case byProvider = "by_provider"
        case smsFallback = "sms_fallback"
        case bySender = "by_sender"
        case byLanguage = "by_language"
        case windows
        case beyondDailyCaps = "beyond_daily_caps"
        case routing
        case durationSeconds = "duration_seconds"
        case durationNote = "duration_note"
        case finishesAt = "finishes_at"
    }
}

extension CampaignPlan {
    /// Streams every row: checks, renders, counts parts, prices and aggregates; applies
    /// MaxPrice and finds where each limit would stop the campaign. Reads the journal
    /// (if there is one) to leave out what was sent; writes nothing to it.
    /// `perRecipient` gets one CSV line per row: row, country, encoding, parts, price,
    /// status; the prices of the `send` rows add up to `total`.
    /// `workers`: threads that check rows (nil: one per core, at most four).
    public func estimate(journalPath: String?, perRecipient: String? = nil, workers: Int? = nil) throws -> Estimate {
        var estimate = Estimate(campaign: spec.id)
        estimate.channel = template.channel.rawValue
        // Lines up to `handledThrough` the journal has dealt with, except those waiting.
        var handledThrough = 0
        var waiting: [Int] = []
        var nextWaiting = 0
        var campaignSpent = Money.zero
        var monthSpent = Money.zero
        let journal = try journalPath.flatMap { path throws(JournalError) in try JournalOpener.planning(path) }
        if let journal {
            let scope = RunOptions().ledgerScope(for: spec)
            monthSpent = try journal.monthSpend(month: BillingMonth.of(milliseconds: journal.currentTime()),
                                                channel: template.channel, scope: scope)
            if let record = try journal.campaign(id: spec.id, mode: .real), record.state != .importing {
                let progress = try journal.progress(cid: record.cid)
                handledThrough = progress.handledThrough
                waiting = progress.waitingLines
                estimate.alreadySent = progress.counts[.sent] + progress.counts[.sending] + progress.counts[.inDoubt]
                campaignSpent = try journal.spendSoFar(cid: record.cid, channel: template.channel).campaign
            }
        }
        /// Whether the journal has already dealt with this line (lines come in order).
        func handled(_ line: Int) -> Bool {
            guard line <= handledThrough else { return false }
            while nextWaiting < waiting.count, waiting[nextWaiting] < line { nextWaiting += 1 }
            return nextWaiting == waiting.count || waiting[nextWaiting] != line
        }
        var writer = try perRecipient.map { try RecipientReport(path: $0, routed: spec.isRouted) }
        let routeNames = spec.routes.map(\.name)
        if spec.isRouted {
            estimate.routing = spec.routing.rawValue
            estimate.byProvider = spec.routes.map { Estimate.ProviderLine(name: $0.name, kind: $0.provider.kind.name) }
        }
        // Where a route's RCS rows fall back to (an index in smsFallback, by route).
        var fallbackLine: [Int: Int] = [:]
        for (index, route) in spec.routes.enumerated() {
            guard let target = route.smsFallback else { continue }
            fallbackLine[index] = estimate.smsFallback.count
            estimate.smsFallback.append(Estimate.FallbackLine(from: route.name, to: spec.routes[target].name))
        }

        estimate.byLanguage = template.languages?.codes.map { Estimate.LanguageLine(language: $0) } ?? []
        // Sized for the file (rows of about 48 bytes) so that it rarely grows, and rehashes, on the way.
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: spec.recipientsPath)[.size] as? Int) ?? nil
        var seen = DestinationSet(capacity: min((fileSize ?? 0) / 48, 50_000_000))
        let suppressed = try suppressionChecker(journal)
        let capped = try frequencyChecker(journalPath: journalPath)
        var countries: [String: Int] = [:]
        var lastRegion = ""
        var lastIndex = 0
        var tally = [Estimate.EncodingLine(), Estimate.EncodingLine()]  // GSM-7, UCS-2
        // Units to send per send-window zone list, in order of first appearance.
        var zoneIndex: [String: Int] = [:]
        var zoneUnits: [(zones: String?, units: Int)] = []
        var zoneRows: [Int] = []
        var lastZoneKey = ""
        var lastZoneIndex = 0
        var campaignStop = LimitWalker(limit: spec.budget.campaignLimit, kind: .campaign, spent: campaignSpent)
        var monthStop = LimitWalker(limit: spec.budget.monthlyLimit, kind: .monthly, spent: monthSpent)
        let channel = template.channel
        // Three stages on two cores: libcsv parsing, row checks and rendering, and
        // (here) duplicates, budget walk and totals in file order.
        // Sender pools: each row from the identity its recipient prefers, as a claim picks it.
        let pools = spec.senders
        var senderDay = SenderChoice(time: Int64(Date().timeIntervalSince1970 * 1000), used: [:])
        // What the journal remembers for the pools' providers (sticky sender), as a claim reads it.
        let pooled = spec.routes.compactMap(\.pool).flatMap { $0.identities.map(\.key) }
        let recall = pooled.isEmpty ? nil : try journal?.rememberedSenders(identities: pooled, among: nil)
        var senderOffsets: [Int] = []
        for route in spec.routes {
            senderOffsets.append(estimate.bySender.count)
            estimate.bySender += (route.pool?.identities ?? []).map {
                Estimate.SenderLine(provider: route.name, id: $0.id, messagesPerSecond: $0.messagesPerSecond, dailyCap: $0.dailyCap)
            }
        }
        estimate.byClause = segment?.clauses.map { Estimate.ClauseLine(clause: $0.text) } ?? []
        if spec.smartEncoding { estimate.smartEncoding = Estimate.SmartSaving() }
        let scanner = try RecipientScanner(plan: self)
        // Each row's fallback SMS is quoted where the row is checked, on every core.
        if !fallbackLine.isEmpty { scanner.fallbackQuoter = FallbackQuoter(plan: self) }
        let rows = HandOff<ScannedBatch>(capacity: 4)
        // Rows are checked on every core; what depends on earlier rows is counted here, in order.
        let threads = workers ?? RecipientScanner.defaultWorkers
        if threads > 1 {
            try scanner.produceInParallel(into: rows, workers: threads)
        } else {
            scanner.produce(into: rows, keepBodies: false)
        }
        defer { rows.cancel() }
        while let batch = try rows.take() {
            for row in batch.entries {
                estimate.rows += 1
                let region = row.phone?.region ?? ""
                var status: String
                if row.problem?.reason == .filtered {
                    estimate.filtered += 1
                    var misses = row.clauseMisses
                    while misses != 0 {
                        let index = misses.trailingZeroBitCount
                        if estimate.byClause.indices.contains(index) { estimate.byClause[index].removes += 1 }
                        misses &= misses - 1
                    }
                    status = Reason.filtered.rawValue
                } else if let problem = row.problem {
                    estimate.invalid[problem.reason.rawValue, default: 0] += 1
                    status = problem.reason.rawValue
                } else if let phone = row.phone, !seen.insert(phone.digits) {
                    estimate.duplicates += 1
                    status = "duplicate"
                } else if handled(row.line) {
                    estimate.alreadyHandled += 1
                    status = "already_handled"
                } else if let phone = row.phone, suppressed?(phone.digits, row.route) == true {
                    estimate.suppressed += 1
                    status = "suppressed"
                } else if let phone = row.phone, capped?(phone.digits) == true {
                    estimate.frequencyCapped += 1
                    status = "frequency_cap"
                } else if BudgetLimits(maxPrice: spec.budget.maxPrice)
                    .decide(cost: row.cost, campaignSpent: .zero, monthSpent: .zero) == .overMaxPrice {
                    estimate.overMaxPrice += 1
                    status = "max_price"
                } else {
                    status = "send"
                    estimate.messages += 1
                    estimate.parts += row.segments.parts
                    if row.smartReplaced {
                        estimate.smartEncoding?.rowsChanged += 1
                        estimate.smartEncoding?.partsSaved += row.smartSaved
                        if row.smartSaved > 0, row.segments.parts > 0 {
                            // Priced per part: the saved parts at the row's own price of one.
                            estimate.smartEncoding?.costSaved += Money(nanos: row.cost.nanos / Int64(row.segments.parts) * Int64(row.smartSaved))
                        }
                    }
                    estimate.total += row.cost
                    tally[row.segments.encoding == .gsm7 ? 0 : 1].messages += 1
                    tally[row.segments.encoding == .gsm7 ? 0 : 1].parts += row.segments.parts
                    // Rows of one country tend to come together: remember the last one.
                    if region != lastRegion {
                        lastRegion = region
                        lastIndex = countries[region] ?? {
                            estimate.byCountry.append(.init(country: region, channel: channel.rawValue))
                            countries[region] = estimate.byCountry.count - 1
                            return estimate.byCountry.count - 1
                        }()
                    }
                    estimate.byCountry[lastIndex].messages += 1
                    estimate.byCountry[lastIndex].parts += row.segments.parts
                    estimate.byCountry[lastIndex].cost += row.cost
                    if !estimate.byProvider.isEmpty {
                        estimate.byProvider[row.route].messages += 1
                        estimate.byProvider[row.route].parts += row.segments.parts
                        estimate.byProvider[row.route].cost += row.cost
                    }
                    if let line = fallbackLine[row.route], let quote = row.fallback {
                        switch quote {
                        case .sms(let parts, let cost):
                            estimate.smsFallback[line].messages += 1
                            estimate.smsFallback[line].parts += parts
                            estimate.smsFallback[line].cost += cost
                        case .noPrice, .noText: estimate.smsFallback[line].unpriced += 1
                        }
                    }
                    if let language = row.language, estimate.byLanguage.indices.contains(language) {
                        estimate.byLanguage[language].messages += 1
                        estimate.byLanguage[language].parts += row.segments.parts
                        estimate.byLanguage[language].cost += row.cost
                    }
                    let zoneKey = row.timeZones ?? ""
                    if zoneKey != lastZoneKey || zoneUnits.isEmpty {
                        lastZoneKey = zoneKey
                        lastZoneIndex = zoneIndex[zoneKey] ?? {
                            zoneIndex[zoneKey] = zoneUnits.count
                            zoneUnits.append((row.timeZones, 0))
                            zoneRows.append(0)
                            return zoneUnits.count - 1
                        }()
                    }
                    zoneUnits[lastZoneIndex].units += channel == .sms ? row.segments.parts : 1
                    zoneRows[lastZoneIndex] += 1
                    if let phone = row.phone, let pool = pools.pool(route: row.route) {
                        let units = channel == .sms ? max(1, row.segments.parts) : 1
                        if let index = senderDay.choose(pool, destination: phone.digits, region: phone.region, units: units,
                                                        recorded: nil, doubted: false,
                                                        remembered: recall?.keys(for: phone.digits) ?? []) {
                            senderDay.take(pool.identities[index], units: units)
                            estimate.bySender[senderOffsets[row.route] + index].messages += 1
                            estimate.bySender[senderOffsets[row.route] + index].units += units
                        } else {
                            estimate.beyondDailyCaps += 1
                        }
                    }
                    campaignStop.offer(row.cost, line: row.line)
                    monthStop.offer(row.cost, line: row.line)
                    // From the row a limit stops at, nothing is sent: the run stops there.
                    if !campaignStop.open || !monthStop.open { status = "budget_stop" }
                }
                // Other channels have no SMS encoding: their column says the channel.
                try writer?.write(line: row.line, country: region, encoding: row.problem != nil ? ""
                                  : channel == .sms ? row.segments.encoding.rawValue : channel.rawValue,
                                  parts: row.problem == nil ? row.segments.parts : nil,
                                  price: row.problem == nil ? row.cost : nil, status: status,
                                  provider: row.problem == nil ? routeNames[row.route] : "")
            }
        }
        try writer?.close()
        if estimate.rows == 0 { throw InputError(file: spec.recipientsPath, "no recipient rows after the header") }
        try scanner.checkEveryRouteFits()
        estimate.ucs2Characters = scanner.culprits.top()
        let start = max(Date(), spec.schedule.startAt ?? Date())
        if let window = spec.schedule.window {
            estimate.windows = Self.windowOpenings(zones: zip(zoneUnits.map(\.zones), zoneRows).map { ($0, $1) }, window: window, at: start)
        }
        if let rate = paceRate(estimate) {
            let finish = FinishTime.estimate(groups: zoneUnits, rate: rate, burst: spec.burst,
                                             window: spec.schedule.window, start: start)
            let unit = channel == .sms ? "parts" : "messages"
            if let finish {
                estimate.durationSeconds = finish.timeIntervalSince(start)
                estimate.finishesAt = ISO8601DateFormatter().string(from: finish)
            }
            estimate.durationNote = "at \(String(format: "%.4g", rate)) \(unit)/s with burst \(String(format: "%g", spec.burst))"
                + (rate < (spec.messagesPerSecond ?? .infinity) ? " (the sender pools' pace: each identity at its own rate)" : "")
                + (spec.schedule.window == nil ? "" : ", inside each recipient's send window")
                + (spec.schedule.startAt == nil ? "" : ", from start_at")
                + (finish == nil ? "; no finish within a year (windows never open together?)" : ", if nothing throttles")
        } else {
            estimate.durationNote = "not estimated: the campaign sets no rate.messages_per_second (sends go as fast as max_in_flight allows)"
        }
        for (encoding, line) in zip([SMSEncoding.gsm7, .ucs2], tally) where line.messages > 0 && channel == .sms {
            estimate.byEncoding[encoding.rawValue] = line
        }
        estimate.byCountry.sort { ($0.cost, $0.country) > ($1.cost, $1.country) }
        if let stop = campaignStop.result(name: "campaign_limit") { estimate.limits.append(stop) }
        if let stop = monthStop.result(name: "monthly_limit") { estimate.limits.append(stop) }
        return estimate
    }
}

extension CampaignPlan {
    /// The pace the campaign sends at: its rate, or, when every identity of its sender pools has a
    /// rate, the pace the busiest identity allows (its share of the rows at its rate), if slower.
    /// Rows beyond the daily caps are not counted here: the estimate names them apart.
    func paceRate(_ estimate: Estimate) -> Double? {
        var pooled: Double?
        let units = estimate.bySender.reduce(0) { $0 + $1.units }
        if !estimate.bySender.isEmpty, spec.routes.allSatisfy({ $0.pool != nil }), units > 0 {
            let seconds = estimate.bySender.map(\.seconds)
            if seconds.allSatisfy({ $0 != nil }), let longest = seconds.compactMap({ $0 }).max(), longest > 0 {
                pooled = Double(units) / longest
            }
        }
        return Self.slower(spec.messagesPerSecond, pooled)
    }

    /// The lower of two rates, either of which may be unset (no limit).
    static func slower(_ a: Double?, _ b: Double?) -> Double? {
        switch (a, b) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }
}

/// Follows spend in file order against one limit (as if it were the only one),
/// noting where it stops the campaign.
struct LimitWalker {
    let limit: Money?
    let kind: BudgetLimitKind
    let spent: Money
    private(set) var sentBefore = 0
    private(set) var costBefore = Money.zero
    private(set) var stopLine: Int?
    /// False once this limit has stopped the campaign.
    private(set) var open = true

    init(limit: Money?, kind: BudgetLimitKind, spent: Money) {
        self.limit = limit
        self.kind = kind
        self.spent = spent
    }

    /// The same decision the claim makes (`BudgetLimits.decide`), with this limit alone.
    mutating func offer(_ cost: Money, line: Int) {
        guard open else { return }
        let limits = kind == .campaign ? BudgetLimits(campaignLimit: limit) : BudgetLimits(monthlyLimit: limit)
        if case .exhausted = limits.decide(cost: cost, campaignSpent: spent + costBefore, monthSpent: spent + costBefore) {
            stopLine = line
            open = false
            return
        }
        sentBefore += 1
        costBefore += cost
    }

    func result(name: String) -> Estimate.LimitStop? {
        guard let limit else { return nil }
        return Estimate.LimitStop(limit: name, amount: limit, alreadySpent: spent, messagesBeforeStop: sentBefore,
                                  stopsAtLine: stopLine, costBeforeStop: costBefore)
    }
}

/// The `--per-recipient` CSV, written through a 1 MiB buffer.
struct RecipientReport {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    let path: String

    /// Whether the campaign has several providers: a `provider` column names each row's.
    let routed: Bool

    init(path: String, routed: Bool = false) throws {
        self.routed = routed
        self.path = path
        guard let handle = try? PrivateFiles.create(path) else {
            throw InputError(file: path, "cannot create the per-recipient report")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
        buffer.append(contentsOf: (routed ? "row,country,encoding,parts,price,status,provider\n" : "row,country,encoding,parts,price,status\n").utf8)
    }

    mutating func write(line: Int, country: String, encoding: String, parts: Int?, price: Money?, status: String,
                        provider: String) throws {
        buffer.append(contentsOf: "\(line),\(country),\(encoding),\(parts.map(String.init) ?? ""),\(price?.description ?? ""),\(status)".utf8)
        if routed { buffer.append(contentsOf: ",\(provider)".utf8) }
        buffer.append(10)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try flush()
        try handle.close()
    }
}

extension CampaignPlan {
    /// Rows by when their window opens after `start` (open ones first), from the rows per zone list.
    static func windowOpenings(zones: [(String?, Int)], window: SendWindow, at start: Date) -> [Estimate.WindowLine] {
        var byOpening: [Date?: Int] = [:]
        for (list, rows) in zones where rows > 0 {
            let parsed = (list ?? "").split(separator: ",").compactMap { TimeZone(identifier: String($0)) }
            guard !parsed.isEmpty else {
                byOpening[nil, default: 0] += rows
                continue
            }
            let state = window.state(at: start, inEvery: parsed)
            byOpening[state.open ? nil : state.until, default: 0] += rows
        }
        let formatter = ISO8601DateFormatter()
        return byOpening.sorted { ($0.key ?? .distantPast) < ($1.key ?? .distantPast) }
            .map { Estimate.WindowLine(opensAt: $0.key.map(formatter.string(from:)), rows: $0.value) }
    }
}
