import Foundation
import HeraldCore
import HeraldSettings
import HeraldJournal
import HeraldProviders
import Yams

/// A campaign file, read and checked. Paths are absolute (resolved against the
/// campaign file's folder).
public struct CampaignSpec: Sendable {
    public var id: String
    public var campaignPath: String
    public var templatePath: String
    public var recipientsPath: String
    public var phoneColumn = "phone"
    public var defaultCountry: String?
    /// The providers it may send through (`provider:`, one; or `providers:`, a list), and how
    /// a row picks one (`routing:`).
    public var routes = [ProviderRoute(name: ProviderKind.simulator.name, provider: ProviderSpec(SimulatorConfiguration()))]
    public var routing = RoutingStrategy.ordered
    /// `where:`, as written, and its line: which rows the campaign is for (`Segment`, checked
    /// against the template's variables when the plan loads).
    public var segmentSource: String?
    public var segmentLine: Int?
    /// `smart_encoding: true`: SMS characters that force UCS-2 are sent as GSM-7 look-alikes
    /// (`SmartEncoding`); its line, for the error when the template is not SMS.
    public var smartEncoding = false
    public var smartEncodingLine: Int?
    /// When a provider counts as down or failing, and how long it is left alone (`failover:`).
    public var failover = FailoverPolicy()
    /// The first provider: the campaign's only one unless it lists several.
    public var provider: ProviderSpec {
        get { routes[0].provider }
        set {
            routes[0].provider = newValue
            if routes.count == 1 { routes[0].name = newValue.kind.name }
        }
    }
    /// Whether the campaign lists several providers (each row records the one it takes).
    public var isRouted: Bool { routes.count > 1 }
    /// Each route's sender (suppressions may be scoped to it) and its pool of identities.
    public var senders: SenderScopes { SenderScopes(routes.map(\.provider.sender), pools: routes.map(\.pool)) }
    /// Sends in flight at once.
    public var maxInFlight = 32
    /// Units (SMS parts, or messages) per second; nil for as fast as `maxInFlight` allows.
    public var messagesPerSecond: Double?
    /// Units allowed at once on top of the rate after a quiet spell.
    public var burst: Double = 0
    /// Provider answers (transient failures) before a row is failed.
    public var maxAttempts = 3
    /// Backoff after a transient failure: doubles from `initialBackoff` up to `maxBackoff` (ms).
    public var initialBackoffMilliseconds = 200
    public var maxBackoffMilliseconds = 20_000
    /// The price book (CSV `country,channel,price`), absolute path.
    public var pricesPath: String?
    public var budget = BudgetLimits()
    /// A column holding each recipient's IANA time zone.
    public var timezoneColumn: String?
    /// Days after the campaign ends before `herald worker` purges its numbers and bodies.
    public var retentionDays: Int?
    /// At most this many messages to one number in a window, across the journal's campaigns.
    public var frequencyCap: FrequencyCap?
    /// A receipt saying a number is invalid puts it on the suppression list.
    public var suppressUndeliverable = false
    public var schedule = Schedule()

    /// When to start and when recipients may be messaged.
    public struct Schedule: Sendable, Equatable {
        public var startAt: Date?
        public var window: SendWindow?
        /// nil: the recipient's zone (column, else from the number); else this zone for everyone.
        public var zone: String?
    }

    /// The campaign's provider: its kind (from the registry, `Providers`) and its settings.
    public struct ProviderSpec: Sendable, Equatable {
        public let settings: any ProviderSettings

        public init(_ settings: any ProviderSettings) { self.settings = settings }

        public var kind: ProviderKind { settings.kind }

        /// Whose content rules the template is checked against.
        public var target: ContentTarget { kind.content }

        /// The sender a suppression may be scoped to (AWS `origination_identity`, Agile
        /// `agent_id`, v5 `source`); "" for the simulator or a provider's default sender.
        public var sender: String { settings.sender }

        /// The settings when they are of one provider's type (`AWSConfiguration`).
        public func settings<Settings: ProviderSettings>(as type: Settings.Type) -> Settings? { settings as? Settings }

        public static func == (lhs: ProviderSpec, rhs: ProviderSpec) -> Bool { lhs.settings.isEqual(to: rhs.settings) }
    }

    /// The settings of each of its providers of one type (`AWSConfiguration`), in the file's order.
    public func settings<Settings: ProviderSettings>(of type: Settings.Type) -> [Settings] {
        routes.compactMap { $0.provider.settings(as: type) }
    }

    /// Whether its messages only ever reach the simulator (their spend is simulated too).
    public var isSimulated: Bool {
        routes.allSatisfy { $0.provider.kind.name == ProviderKind.simulator.name }
    }

    public static func load(path: String) throws(InputError) -> CampaignSpec {
        let file = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: file, "cannot read the campaign file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: file, "not UTF-8 text") }
        let top = try YAMLMap.load(file: file, text: text)
        try top.onlyKeys(["id", "template", "recipients", "phone_column", "default_country", "timezone_column", "prices",
                          "budget", "provider", "providers", "routing", "rate", "retry", "schedule", "retention_days", "frequency_cap", "suppress_undeliverable",
                          "failover", "where", "smart_encoding"])
        let id = try top.requiredString("id")
        guard isValidID(id) else {
            throw top.error("id", "\(id.quoted) must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            URL(fileURLWithPath: relative, relativeTo: folder).standardizedFileURL.path
        }
        var spec = CampaignSpec(
            id: id, campaignPath: URL(fileURLWithPath: path).standardizedFileURL.path,
            templatePath: resolve(try top.requiredString("template")),
            recipientsPath: resolve(try top.requiredString("recipients")))
        if let column = try top.string("phone_column") { spec.phoneColumn = column }
        if let country = try top.string("default_country") {
            let upper = country.uppercased()
            guard upper.count == 2, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw top.error("default_country", "\(country.quoted) is not an ISO 3166 alpha-2 code such as GB or US")
            }
            spec.defaultCountry = upper
        }
        if let prices = try top.string("prices") { spec.pricesPath = resolve(prices) }
        spec.timezoneColumn = try top.string("timezone_column")
        if let schedule = try top.map("schedule") { spec.schedule = try parseSchedule(schedule) }
        if let budget = try top.map("budget") {
            spec.budget = try parseBudget(budget)
        }
        if let provider = try top.map("provider") {
            if top.node("providers") != nil { throw top.error("providers", "give either provider: (one) or providers: (a list), not both") }
            let (map, pool) = try SenderPoolFile.parse(provider)
            spec.provider = ProviderSpec(try Providers.parse(map, folder: folder))
            spec.routes[0].pool = pool
        }
        if let entries = try top.maps("providers") {
            spec.routes = try ProviderRoute.parse(entries, list: top, resolve: resolve, folder: folder)
        }
        if let routing = try top.string("routing") {
            guard let strategy = RoutingStrategy(rawValue: routing) else {
                throw top.error("routing", "\(routing.quoted) is not a routing strategy (\(RoutingStrategy.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard spec.isRouted else { throw top.error("routing", "routing needs a providers: list of two or more") }
            spec.routing = strategy
        }
        if let smart = try top.bool("smart_encoding") {
            spec.smartEncoding = smart
            spec.smartEncodingLine = top.line(of: "smart_encoding")
        }
        if let segment = try top.string("where") {
            spec.segmentSource = segment
            spec.segmentLine = top.line(of: "where")
        }
        if let failover = try top.map("failover") {
            guard spec.isRouted else { throw top.error("failover", "failover needs a providers: list of two or more") }
            spec.failover = try parseFailover(failover)
        }
        if !spec.budget.isEmpty, spec.pricesPath == nil, spec.routes.contains(where: { $0.pricesPath == nil }) {
            throw top.error("budget", "a budget needs a price book for every provider: add prices: path/to/prices.csv")
        }
        if let rate = try top.map("rate") {
            try rate.onlyKeys(["messages_per_second", "burst", "max_in_flight"])
            spec.maxInFlight = try rate.int("max_in_flight", in: 1...4096) ?? spec.maxInFlight
            spec.messagesPerSecond = try rate.double("messages_per_second", in: 0.001...1_000_000)
            spec.burst = try rate.double("burst", in: 0...1_000_000) ?? 0
            if spec.messagesPerSecond == nil, rate.node("burst") != nil {
                throw rate.error("burst", "burst needs messages_per_second")
            }
        }
        spec.retentionDays = try top.int("retention_days", in: 1...36_500)
        spec.suppressUndeliverable = try top.bool("suppress_undeliverable") ?? false
        if let cap = try top.map("frequency_cap") {
            try cap.onlyKeys(["messages", "days"])
            guard let messages = try cap.int("messages", in: 1...10_000), let days = try cap.int("days", in: 1...3_650) else {
                throw top.error("frequency_cap", "needs both messages (1-10000) and days (1-3650), e.g. {messages: 1, days: 7}")
            }
            spec.frequencyCap = FrequencyCap(messages: messages, days: days)
        }
        if let retry = try top.map("retry") {
            try retry.onlyKeys(["max_attempts", "initial_backoff_ms", "max_backoff_ms"])
            spec.maxAttempts = try retry.int("max_attempts", in: 1...100) ?? spec.maxAttempts
            spec.initialBackoffMilliseconds = try retry.int("initial_backoff_ms", in: 1...600_000) ?? spec.initialBackoffMilliseconds
            spec.maxBackoffMilliseconds = try retry.int("max_backoff_ms", in: spec.initialBackoffMilliseconds...3_600_000)
                ?? max(spec.maxBackoffMilliseconds, spec.initialBackoffMilliseconds)
        }
        return spec
    }

    /// 1-64 of letters, digits, `.`, `-`, `_`, starting with a letter or digit.
    static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        func allowed(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        guard let first = bytes.first, allowed(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy { allowed($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func parseSchedule(_ map: YAMLMap) throws(InputError) -> Schedule {
        try map.onlyKeys(["start_at", "window", "timezone"])
        var schedule = Schedule()
        schedule.startAt = try map.date("start_at")
        if let window = try map.map("window") {
            try window.onlyKeys(["start", "end", "days"])
            let start = try window.requiredString("start")
            let end = try window.requiredString("end")
            var days = Set(SendWindow.Weekday.allCases)
            if let node = window.node("days") {
                guard case .sequence(let items) = node else { throw window.error("days", "expected a list such as [mon, tue, wed]") }
                days = []
                for item in items {
                    guard let name = item.string, let day = SendWindow.Weekday(rawValue: name.lowercased()) else {
                        throw window.error("days", "\((item.string ?? "?").quoted) is not a day (sun, mon, tue, wed, thu, fri, sat)")
                    }
                    days.insert(day)
                }
            }
            // Each mistake at its own key: the end of the day may be written 24:00.
            guard SendWindow.minutes(start) != nil else {
                throw window.error("start", "\(start.quoted) is not a time of day as HH:MM (00:00 to 23:59)")
            }
            let closing = end == "24:00" ? "00:00" : end
            guard let endMinutes = SendWindow.minutes(closing) else {
                throw window.error("end", "\(end.quoted) is not a time of day as HH:MM (00:00 to 24:00)")
            }
            guard endMinutes != SendWindow.minutes(start) else {
                throw window.error("end", "\(end.quoted) is the window's start too: a window needs two different times")
            }
            guard !days.isEmpty else { throw window.error("days", "a window needs at least one day") }
            guard let parsed = SendWindow(start: start, end: closing, days: days) else {
                throw window.error("start", "window needs start and end as HH:MM, different from each other, and at least one day")
            }
            schedule.window = parsed
        }
        if let zone = try map.string("timezone"), zone != "recipient" {
            guard TimeZone(identifier: zone) != nil else {
                throw map.error("timezone", "\(zone.quoted) is neither recipient nor an IANA time zone such as Europe/London")
            }
            schedule.zone = zone
        }
        return schedule
    }

    private static func parseBudget(_ map: YAMLMap) throws(InputError) -> BudgetLimits {
        try map.onlyKeys(["max_price", "campaign_limit", "monthly_limit"])
        func amount(_ key: String) throws(InputError) -> Money? {
            guard let node = map.node(key) else { return nil }
            guard case .scalar(let scalar) = node else {
                throw map.error(key, "expected an amount in USD such as 0.05 or 500.00 (at most 9 decimals)")
            }
            let text = scalar.string.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("-") { throw map.error(key, "must not be negative (\(text))") }
            // Read as written or refused, never read as something else: amounts are plain USD.
            if text.hasPrefix("$") || text.hasPrefix("USD") || text.hasSuffix("USD") {
                throw map.error(key, "write the amount as a plain number of US dollars, such as \(text.filter { $0.isNumber || $0 == "." }), without a currency sign")
            }
            guard let money = Money(text) else {
                throw map.error(key, "expected an amount in USD such as 0.05 or 500.00 (at most 9 decimals)")
            }
            return money
        }
        let limits = BudgetLimits(
            maxPrice: try amount("max_price"), campaignLimit: try amount("campaign_limit"),
            monthlyLimit: try amount("monthly_limit"))
        if let maxPrice = limits.maxPrice, maxPrice.decimals > 5 || maxPrice >= Money(nanos: 100 * Money.scale) {
            // AWS takes MaxPrice as [0-9]{0,2}.[0-9]{1,5}: keep campaigns portable.
            throw map.error("max_price", "must be below 100 with at most 5 decimals (\(maxPrice))")
        }
        return limits
    }
}

extension CampaignSpec {
    /// `failover: {cool_down_seconds, max_cool_down_seconds, window, failures, throttles}`:
    /// each within its range, the failure counts within the window.
    static func parseFailover(_ map: YAMLMap) throws(InputError) -> FailoverPolicy {
        try map.onlyKeys(["cool_down_seconds", "max_cool_down_seconds", "window", "failures", "throttles",
                          "slow_after_seconds", "slow_share", "slow_window_minutes", "slow_minimum"])
        var policy = FailoverPolicy()
        if let seconds = try map.int("cool_down_seconds", in: 1...3_600) { policy.coolDown = Int64(seconds) * 1_000 }
        if let seconds = try map.int("max_cool_down_seconds", in: 1...86_400) { policy.maxCoolDown = Int64(seconds) * 1_000 }
        if map.node("max_cool_down_seconds") == nil { policy.maxCoolDown = max(policy.maxCoolDown, policy.coolDown) }
        guard policy.maxCoolDown >= policy.coolDown else {
            throw map.error("max_cool_down_seconds", "must not be shorter than cool_down_seconds (\(policy.coolDown / 1_000))")
        }
        policy.window = try map.int("window", in: 1...1_000) ?? policy.window
        for key in ["failures", "throttles"] {
            guard let count = try map.int(key, in: 1...1_000) else { continue }
            guard count <= policy.window else {
                throw map.error(key, "\(count) is more than the window's \(policy.window) answers: it could never be reached")
            }
            if key == "failures" { policy.failures = count } else { policy.throttles = count }
        }
        if let seconds = try map.int("slow_after_seconds", in: 1...86_400) { policy.slow.deliveredWithin = Int64(seconds) * 1_000 }
        if let share = try map.double("slow_share", in: 0.01...1) { policy.slow.share = share }
        if let minutes = try map.int("slow_window_minutes", in: 1...1_440) { policy.slow.window = Int64(minutes) * 60_000 }
        if let minimum = try map.int("slow_minimum", in: 1...1_000) { policy.slow.minimum = minimum }
        guard policy.slow.window > policy.slow.deliveredWithin else {
            throw map.error("slow_window_minutes", "the window (\(policy.slow.window / 60_000) min) must be longer than slow_after_seconds "
                + "(\(policy.slow.deliveredWithin / 1_000) s): no message could be judged")
        }
        if map.node("failures") == nil { policy.failures = min(policy.failures, policy.window) }
        if map.node("throttles") == nil { policy.throttles = min(policy.throttles, policy.window) }
        return policy
    }
}
