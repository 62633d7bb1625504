import HeraldCore

/// The live report's counters, kept as the state tallies are: per minute, messages sent
/// and delivered; per country, messages sent and delivered, Herald's price of what was
/// sent and of what it means to send, and what the provider reported. Every change to a
/// row's state or delivery moves them in the same transaction, so a report reads a few
/// hundred counters whatever the number of rows.
///
/// The rule is what one row adds: a row not skipped adds its cost to its country's
/// estimate; a sent row adds one send to the minute it was sent in and its cost to its
/// country's spend; a delivered (or fallback) message adds one delivery to the minute of
/// that event; a provider-reported price adds to its country's reported cost. A change of
/// a row moves the counters by what it adds after minus what it added before. The same
/// value holds deltas (what a transaction changes) and totals (what a store keeps).
public struct ReportCounters: Sendable, Equatable {
    public struct Minute: Sendable, Equatable {
        public var sent = 0
        public var delivered = 0

        public init(sent: Int = 0, delivered: Int = 0) {
            self.sent = sent
            self.delivered = delivered
        }

        public var isZero: Bool { sent == 0 && delivered == 0 }
    }

    public struct Country: Sendable, Equatable {
        public var sent = 0
        public var delivered = 0
        /// Nano-USD, Herald's price.
        public var spent: Int64 = 0
        public var estimated: Int64 = 0
        /// Nano-USD the provider reported, over `priced` messages.
        public var reported: Int64 = 0
        public var priced = 0

        public init(sent: Int = 0, delivered: Int = 0, spent: Int64 = 0, estimated: Int64 = 0, reported: Int64 = 0, priced: Int = 0) {
            self.sent = sent
            self.delivered = delivered
            self.spent = spent
            self.estimated = estimated
            self.reported = reported
            self.priced = priced
        }

        public var isZero: Bool { self == Country() }
    }

    /// Minutes since 1970 → counts.
    public private(set) var minutes: [Int64: Minute] = [:]
    /// Region code (`?` when unknown) → counts.
    public private(set) var countries: [String: Country] = [:]

    public init() {}

    public static let unknownRegion = "?"
    public static let minuteMilliseconds: Int64 = 60_000

    public static func minute(of milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / minuteMilliseconds : (milliseconds + 1) / minuteMilliseconds - 1
    }

    public var isEmpty: Bool { minutes.values.allSatisfy(\.isZero) && countries.values.allSatisfy(\.isZero) }

    // MARK: The rule

    /// What a row in `state` adds (or, with `sign` -1, takes back). `at` is when the row
    /// last changed state (`updated_at`): for a sent row, when it was sent.
    /// `rows` rows that share state, region and minute count as many, `cost` their total
    /// (for stores that fetch the facts grouped).
    public mutating func add(_ state: MessageState, region: String?, cost: Int64, at: Int64, rows: Int = 1, sign: Int = 1) {
        guard state != .skipped else { return }
        let sent = state == .sent
        // One lookup per dictionary: this runs for every row a step settles.
        Self.bump(&countries[region ?? Self.unknownRegion, default: Country()], sent: sent, cost: cost, rows: rows, sign: sign)
        if sent { minutes[Self.minute(of: at), default: Minute()].sent &+= sign &* rows }
    }

    private static func bump(_ country: inout Country, sent: Bool, cost: Int64, rows: Int, sign: Int) {
        let signed = Int64(sign) &* cost
        country.estimated &+= signed
        guard sent else { return }
        country.sent &+= sign &* rows
        country.spent &+= signed
    }

    /// Whether moving a row between these states changes the counters: only moves into or
    /// out of sent and skipped do (the others all add the same).
    public static func moves(from: MessageState, to: MessageState) -> Bool {
        from != to && (from == .sent || from == .skipped || to == .sent || to == .skipped)
    }

    /// A row that changed state: what it adds in its new state minus what it added before.
    /// Moves between states that add the same (anything but sent and skipped) change nothing.
    public mutating func move(region: String?, cost: Int64, from: MessageState, at before: Int64, to: MessageState, at after: Int64) {
        guard Self.moves(from: from, to: to) else { return }
        add(from, region: region, cost: cost, at: before, sign: -1)
        add(to, region: region, cost: cost, at: after)
    }

    public mutating func apply(_ move: ReportMove) {
        guard let after = move.costAfter, after != move.cost else {
            self.move(region: move.region, cost: move.cost, from: move.from, at: move.before, to: move.to, at: move.after)
            return
        }
        // A row that changed its cost (moved to another provider) counts again at its new cost.
        add(move.from, region: move.region, cost: move.cost, at: move.before, sign: -1)
        add(move.to, region: move.region, cost: after, at: move.after)
    }

    /// What a message's delivery adds: one delivery at the time of its delivered (or
    /// fallback) event, and the provider's price where it reported one.
    public mutating func addDelivery(_ state: DeliveryState?, at: Int64?, price: Int64?, region: String?, sign: Int = 1) {
        addDeliveries(state, at: at, region: region, rows: 1, reported: price ?? 0, priced: price == nil ? 0 : 1, sign: sign)
    }

    /// `rows` deliveries that share state, region and minute, `priced` of them with a
    /// provider price, `reported` the sum of those prices.
    public mutating func addDeliveries(_ state: DeliveryState?, at: Int64?, region: String?, rows: Int, reported: Int64, priced: Int,
                                       sign: Int = 1) {
        let key = region ?? Self.unknownRegion
        if state == .delivered || state == .fallback {
            countries[key, default: Country()].delivered &+= sign &* rows
            if let at { minutes[Self.minute(of: at), default: Minute()].delivered &+= sign &* rows }
        }
        if priced != 0 {
            countries[key, default: Country()].reported &+= Int64(sign) &* reported
            countries[key, default: Country()].priced &+= sign &* priced
        }
    }

    // MARK: Totals

    /// Adds stored counters (or another transaction's deltas). Wrapping, never trapping:
    /// the values may come from a damaged journal.
    public mutating func add(minute: Int64, _ counts: Minute) {
        var current = minutes[minute, default: Minute()]
        current.sent &+= counts.sent
        current.delivered &+= counts.delivered
        minutes[minute] = current
    }

    public mutating func add(region: String, _ counts: Country) {
        var current = countries[region, default: Country()]
        current.sent &+= counts.sent
        current.delivered &+= counts.delivered
        current.spent &+= counts.spent
        current.estimated &+= counts.estimated
        current.reported &+= counts.reported
        current.priced &+= counts.priced
        countries[region] = current
    }

    public mutating func merge(_ other: ReportCounters) {
        for (minute, counts) in other.minutes { add(minute: minute, counts) }
        for (region, counts) in other.countries { add(region: region, counts) }
    }

    /// Without the entries that hold only zeros, so that totals compare equal whatever
    /// zeros a store kept.
    public var normalised: ReportCounters {
        var copy = self
        copy.minutes = minutes.filter { !$0.value.isZero }
        copy.countries = countries.filter { !$0.value.isZero }
        return copy
    }

    /// Where stored counters disagree with the same folded from the rows (`herald doctor`).
    public static func drift(counted: ReportCounters, fromRows: ReportCounters) -> [CounterDrift] {
        let counted = counted.normalised, fromRows = fromRows.normalised
        var drift: [CounterDrift] = []
        for minute in Set(counted.minutes.keys).union(fromRows.minutes.keys).sorted() {
            let a = counted.minutes[minute] ?? Minute(), b = fromRows.minutes[minute] ?? Minute()
            let at = "report minute \(minute &* minuteMilliseconds / 1000)"
            if a.sent != b.sent { drift.append(CounterDrift(what: "\(at) sent", counted: Int64(a.sent), fromRows: Int64(b.sent))) }
            if a.delivered != b.delivered {
                drift.append(CounterDrift(what: "\(at) delivered", counted: Int64(a.delivered), fromRows: Int64(b.delivered)))
            }
        }
        for region in Set(counted.countries.keys).union(fromRows.countries.keys).sorted() {
            let a = counted.countries[region] ?? Country(), b = fromRows.countries[region] ?? Country()
            let fields: [(String, Int64, Int64)] = [
                ("sent", Int64(a.sent), Int64(b.sent)), ("delivered", Int64(a.delivered), Int64(b.delivered)),
                ("spent nano-USD", a.spent, b.spent), ("estimated nano-USD", a.estimated, b.estimated),
                ("reported nano-USD", a.reported, b.reported), ("priced", Int64(a.priced), Int64(b.priced)),
            ]
            for (name, x, y) in fields where x != y {
                drift.append(CounterDrift(what: "report \(region) \(name)", counted: x, fromRows: y))
            }
        }
        return drift
    }
}

/// One row's change of state as the report's counters see it (what a settlement carries,
/// so a step sums its rows' moves without building counters per row).
public struct ReportMove: Sendable, Equatable {
    public let region: String?
    public let cost: Int64
    /// The row's cost after the change, when the change sets a new one (a row moved to
    /// another provider); nil when it keeps `cost`.
    public let costAfter: Int64?
    public let from: MessageState
    public let before: Int64
    public let to: MessageState
    public let after: Int64

    public init(region: String?, cost: Int64, from: MessageState, at before: Int64, to: MessageState, at after: Int64,
                costAfter: Int64? = nil) {
        self.region = region
        self.cost = cost
        self.costAfter = costAfter
        self.from = from
        self.before = before
        self.to = to
        self.after = after
    }
}

/// What `herald report` draws from the counters: the timeline in minute buckets, or hour
/// buckets when sending spanned more than six hours; countries by messages sent; a few
/// CSV lines for each reason. Its size does not grow with the rows.
public struct ReportAggregates: Sendable {
    public struct Country: Sendable {
        public var region: String
        public var sent = 0
        public var delivered = 0
        /// Herald's price of the sent messages (nano-dollars), and of every row to send.
        public var spent: Int64 = 0
        public var estimated: Int64 = 0
        /// What the provider reported for them, where it did.
        public var reported: Int64?
    }

    /// Messages sent and delivered per time bucket (start in ms since 1970).
    public var sends: [Int64: Int] = [:]
    public var deliveries: [Int64: Int] = [:]
    public var bucketMilliseconds: Int64 = 60_000
    public var countries: [Country] = []
    /// A few CSV lines for each reason (skipped, failed, waiting), in file order.
    public var examples: [String: [Int]] = [:]
    public var firstSend: Int64?
    public var lastSend: Int64?
    /// Herald's price of every message it meant to send (its estimate), nano-dollars.
    public var estimated: Int64 = 0

    public static let longSpan: Int64 = 6 * 3_600_000

    public init(counters: ReportCounters, examples: [String: [Int]]) {
        let sending = counters.minutes.filter { $0.value.sent > 0 }.keys
        if let first = sending.min(), let last = sending.max() {
            // Wrapping: stored minutes may be anything a damaged journal holds.
            firstSend = first &* ReportCounters.minuteMilliseconds
            lastSend = last &* ReportCounters.minuteMilliseconds
            if last.subtractingReportingOverflow(first).partialValue > Self.longSpan / ReportCounters.minuteMilliseconds { bucketMilliseconds = 3_600_000 }
        }
        let bucket = bucketMilliseconds
        for (minute, counts) in counters.minutes {
            let start = (minute &* ReportCounters.minuteMilliseconds) / bucket &* bucket
            if counts.sent != 0 { sends[start, default: 0] &+= counts.sent }
            if counts.delivered != 0 { deliveries[start, default: 0] &+= counts.delivered }
        }
        countries = counters.countries.filter { !$0.value.isZero }.map { region, counts in
            Country(region: region, sent: counts.sent, delivered: counts.delivered, spent: counts.spent,
                    estimated: counts.estimated, reported: counts.priced == 0 ? nil : counts.reported)
        }
        .sorted { $0.sent == $1.sent ? $0.region < $1.region : $0.sent > $1.sent }
        estimated = counters.countries.values.reduce(0) { $0 &+ $1.estimated }
        self.examples = examples
    }
}
