import Foundation
import HeraldCore
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
    public var provider: ProviderSpec = .simulator(SimulatorConfiguration())
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

    public enum ProviderSpec: Sendable, Equatable {
        case simulator(SimulatorConfiguration)
        case aws(AWSConfiguration)
        case agile(AgileConfiguration)
        case v5(V5Configuration)

        /// Whose content rules the template is checked against.
        public var target: ContentTarget {
            switch self {
            case .simulator: return .simulator
            case .aws: return .aws
            case .agile: return .agile
            case .v5: return .v5
            }
        }

        /// The sender a suppression may be scoped to: AWS `origination_identity`, Agile
        /// `agent_id`, v5 `source`; "" for the simulator (or an AWS default sender).
        public var sender: String {
            switch self {
            case .simulator: ""
            case .aws(let configuration): configuration.originationIdentity ?? ""
            case .agile(let configuration): String(configuration.agentID)
            case .v5(let configuration): configuration.source
            }
        }
    }

    /// Whether its messages only ever reach the simulator (their spend is simulated too).
    public var isSimulated: Bool {
        provider.target == .simulator
    }

    public static func load(path: String) throws(InputError) -> CampaignSpec {
        let file = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: file, "cannot read the campaign file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: file, "not UTF-8 text") }
        let top = try YAMLMap.load(file: file, text: text)
        try top.onlyKeys(["id", "template", "recipients", "phone_column", "default_country", "timezone_column", "prices",
                          "budget", "provider", "rate", "retry", "schedule", "retention_days", "frequency_cap", "suppress_undeliverable"])
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
            if !spec.budget.isEmpty, spec.pricesPath == nil {
                throw top.error("budget", "a budget needs a price book: add prices: path/to/prices.csv")
            }
        }
        if let provider = try top.map("provider") {
            spec.provider = try parseProvider(provider, folder: folder)
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
        schedule.startAt = try date(map, "start_at")
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
            guard let parsed = SendWindow(start: start, end: end, days: days) else {
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
            guard case .scalar(let scalar) = node, let money = Money(scalar.string) else {
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

    private static func parseProvider(_ map: YAMLMap, folder: URL) throws(InputError) -> ProviderSpec {
        let kind = try map.string("kind") ?? "simulator"
        switch kind {
        case "aws": return .aws(try parseAWS(map))
        case "agile": return .agile(try parseAgile(map))
        case "v5": return .v5(try parseV5(map))
        case "simulator": break
        default: throw map.error("kind", "\(kind.quoted) is not a provider (simulator, aws, agile, v5)")
        }
        try map.onlyKeys(["kind", "latency_ms", "failure_rate", "permanent_failure_rate", "lost_answer_rate", "throttle_mps",
                          "seed", "outbox", "spend_limit_after", "receipts"])
        var configuration = SimulatorConfiguration()
        if let latency = map.node("latency_ms") {
            configuration.latencyMilliseconds = try parseLatency(latency, map: map)
        }
        configuration.failureRate = try map.double("failure_rate", in: 0...1) ?? 0
        configuration.permanentFailureRate = try map.double("permanent_failure_rate", in: 0...1) ?? 0
        configuration.lostAnswerRate = try map.double("lost_answer_rate", in: 0...1) ?? 0
        if configuration.failureRate + configuration.permanentFailureRate > 1 {
            throw map.error("failure_rate", "failure_rate + permanent_failure_rate must not exceed 1")
        }
        configuration.throttleMessagesPerSecond = try map.double("throttle_mps", in: 0.001...1_000_000)
        if let seed = try map.int("seed", in: 0...Int.max) { configuration.seed = UInt64(seed) }
        configuration.spendLimitAfter = try map.int("spend_limit_after", in: 0...Int.max)
        if let outbox = try map.string("outbox") {
            configuration.outboxPath = URL(fileURLWithPath: outbox, relativeTo: folder).standardizedFileURL.path
        }
        if let receipts = try map.map("receipts") {
            try receipts.onlyKeys(["delivered", "undelivered", "read", "latency_ms"])
            var rates = SimulatedReceiptRates()
            rates.delivered = try receipts.double("delivered", in: 0...1) ?? rates.delivered
            rates.undelivered = try receipts.double("undelivered", in: 0...1) ?? rates.undelivered
            rates.read = try receipts.double("read", in: 0...1) ?? rates.read
            if rates.delivered + rates.undelivered > 1 {
                throw receipts.error("delivered", "delivered + undelivered must not exceed 1")
            }
            if let latency = receipts.node("latency_ms") { rates.latencyMilliseconds = try parseLatency(latency, map: receipts) }
            configuration.receipts = rates
        }
        return .simulator(configuration)
    }

    private static func parseAWS(_ map: YAMLMap) throws(InputError) -> AWSConfiguration {
        try map.onlyKeys(["kind", "region", "endpoint", "origination_identity", "configuration_set", "message_type",
                          "ttl_seconds", "keyword", "protect_configuration_id", "message_feedback_enabled", "context",
                          "notify_configuration_id", "voice_id", "fallback_origination_identity", "opt_out_list"])
        var aws = AWSConfiguration()
        aws.region = try setting(map, "region", allowed: "a-z0-9-", max: 32,
                                 shape: { $0.split(separator: "-").count >= 3 && $0.last!.isNumber }, example: "eu-west-1")
        aws.endpoint = try httpURL(map, "endpoint")
        // Shapes from the service model (pinpoint-sms-voice-v2), checked before anything is sent.
        aws.originationIdentity = try setting(map, "origination_identity", allowed: "A-Za-z0-9_:/+-", max: 256)
        aws.configurationSet = try setting(map, "configuration_set", allowed: "A-Za-z0-9_:/-", max: 256)
        if let type = try map.string("message_type") {
            guard type == "TRANSACTIONAL" || type == "PROMOTIONAL" else {
                throw map.error("message_type", "must be TRANSACTIONAL or PROMOTIONAL")
            }
            aws.messageType = type
        }
        aws.ttlSeconds = try map.int("ttl_seconds", in: 5...259_200)
        aws.keyword = try setting(map, "keyword", allowed: nil, max: 30)
        aws.protectConfigurationID = try setting(map, "protect_configuration_id", allowed: "A-Za-z0-9_:/-", max: 256)
        aws.messageFeedbackEnabled = try map.bool("message_feedback_enabled")
        aws.notifyConfigurationID = try setting(map, "notify_configuration_id", allowed: "A-Za-z0-9_:/-", max: 256)
        aws.voiceID = try setting(map, "voice_id", allowed: "A-Za-z", max: 32)?.uppercased()
        aws.fallbackOriginationIdentity = try setting(map, "fallback_origination_identity", allowed: "A-Za-z0-9_:/+-", max: 256)
        aws.optOutList = try setting(map, "opt_out_list", allowed: "A-Za-z0-9_:/-", max: 256)
        if let context = try map.map("context") {
            guard context.keys.count <= 3 else {
                throw map.error("context", "at most 3 entries: AWS takes 5 and herald sets \"campaign\" and \"herald_row\"")
            }
            for key in context.keys {
                guard key != "campaign", key != "herald_row" else {
                    throw context.error(key, "\"\(key)\" is set by herald (campaign id and CSV row, to match receipts)")
                }
                aws.context[key] = try context.requiredString(key)
            }
        }
        return aws
    }

    private static func parseAgile(_ map: YAMLMap) throws(InputError) -> AgileConfiguration {
        try map.onlyKeys(["kind", "endpoint", "agent_id", "fallback_sender", "fallback_whatsapp", "max_sms_parts",
                          "scheduled_date", "enable_notification"])
        var agile = AgileConfiguration()
        agile.endpoint = try httpURL(map, "endpoint") ?? AgileConfiguration.defaultEndpoint
        guard let agent = try map.int("agent_id", in: 1...Int(Int32.max)) else {
            throw InputError(file: map.file, line: map.line, "missing required key \"provider.agent_id\" (the Agile RCS agent)")
        }
        agile.agentID = agent
        agile.fallbackSender = try setting(map, "fallback_sender", allowed: nil, max: 64)
        if let whatsapp = try map.map("fallback_whatsapp") {
            try whatsapp.onlyKeys(["phone_number_id", "template_id"])
            guard let phone = try whatsapp.int("phone_number_id", in: 1...Int.max),
                let template = try whatsapp.int("template_id", in: 1...Int.max)
            else {
                throw InputError(file: map.file, line: whatsapp.line, "provider.fallback_whatsapp needs phone_number_id and template_id")
            }
            guard agile.fallbackSender != nil else {
                throw map.error("fallback_whatsapp", "Agile requires an SMS fallback with a WhatsApp one: set fallback_sender and the template's fallback_sms")
            }
            agile.fallbackWhatsApp = .init(phoneNumberID: phone, templateID: template)
        }
        agile.maxSMSParts = try map.int("max_sms_parts", in: 1...10)
        agile.scheduledDate = try date(map, "scheduled_date")
        agile.enableNotification = try map.bool("enable_notification")
        return agile
    }

    private static func parseV5(_ map: YAMLMap) throws(InputError) -> V5Configuration {
        try map.onlyKeys(["kind", "endpoint", "source", "fallback_sender", "callback_url"])
        var v5 = V5Configuration()
        guard let endpoint = try httpURL(map, "endpoint") else {
            throw InputError(file: map.file, line: map.line, "missing required key \"provider.endpoint\" (the /v5/messages API's base URL)")
        }
        v5.endpoint = endpoint
        guard let source = try setting(map, "source", allowed: nil, max: 64) else {
            throw InputError(file: map.file, line: map.line, "missing required key \"provider.source\" (the RCS sender)")
        }
        v5.source = source
        v5.fallbackSender = try setting(map, "fallback_sender", allowed: nil, max: 64)
        if let sender = v5.fallbackSender, sender.count > 50 { throw map.error("fallback_sender", "at most 50 characters") }
        v5.callbackURL = try httpURL(map, "callback_url")
        return v5
    }

    /// An ISO 8601 time, quoted or as a YAML timestamp.
    private static func date(_ map: YAMLMap, _ key: String) throws(InputError) -> Date? {
        if let text = try map.string(key) {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw map.error(key, "\(text.quoted) is not an ISO 8601 time such as 2026-12-01T09:00:00Z")
            }
            return date
        }
        return map.node(key)?.timestamp
    }

    /// A provider setting checked for its shape when the campaign loads: not empty, at
    /// most `max` characters, no control characters or surrounding spaces, only the
    /// `allowed` characters (a character-class body such as `A-Za-z0-9_-`) when given.
    private static func setting(_ map: YAMLMap, _ key: String, allowed: String?, max: Int,
                                shape: ((String) -> Bool)? = nil, example: String? = nil) throws(InputError) -> String? {
        guard let text = try map.string(key) else { return nil }
        let problem: String?
        if text.isEmpty {
            problem = "must not be empty"
        } else if text.count > max {
            problem = "\(text.quoted) is longer than \(max) characters"
        } else if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problem = "\(text.quoted) holds a control character (a line break?)"
        } else if text.first!.isWhitespace || text.last!.isWhitespace {
            problem = "\(text.quoted) starts or ends with a space"
        } else if let allowed, text.range(of: "^[\(allowed)]+$", options: .regularExpression) == nil {
            problem = "\(text.quoted) may hold only \(allowed)"
        } else if let shape, !shape(text) {
            problem = "\(text.quoted) is not of the form \(example ?? "expected")"
        } else {
            problem = nil
        }
        if let problem { throw map.error(key, problem) }
        return text
    }

    /// An http(s) URL without a trailing slash.
    private static func httpURL(_ map: YAMLMap, _ key: String) throws(InputError) -> String? {
        guard var text = try map.string(key) else { return nil }
        guard let url = URL(string: text), url.host != nil, url.scheme == "https" || url.scheme == "http" else {
            throw map.error(key, "\(text.quoted) is not an http(s) URL")
        }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// `latency_ms: 5` or `latency_ms: "2-20"` (uniform in the range).
    private static func parseLatency(_ node: Node, map: YAMLMap) throws(InputError) -> ClosedRange<Double> {
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
}
