import HeraldCore

/// What one answer (or its absence) says about a provider's health.
public enum ProviderSignal: Sendable, Equatable {
    /// It answered about the message: took it, or refused this one message (a bad number):
    /// the provider works.
    case answered
    /// The request never reached it (connection refused, connect timeout).
    case unreached
    /// A server error (5xx) or a lost answer: it may be failing.
    case failing
    /// It said to slow down.
    case throttled
    /// It refused the whole campaign (credentials, unknown sender).
    case refused
}

/// When a provider of a campaign counts as down or failing, and for how long it is left alone.
public struct FailoverPolicy: Sendable, Equatable {
    /// The first cool-down (ms); each demotion in a row doubles it, up to `maxCoolDown`.
    public var coolDown: Int64
    public var maxCoolDown: Int64
    /// The answers looked at: the last `window`.
    public var window: Int
    /// Server errors or lost answers among them that demote it.
    public var failures: Int
    /// Throttled answers among them that demote it.
    public var throttles: Int
    /// When its deliveries are slow (receipts).
    public var slow = SlowDeliveryPolicy()

    public init(coolDown: Int64 = 30_000, maxCoolDown: Int64 = 300_000, window: Int = 20, failures: Int = 5, throttles: Int = 10) {
        self.coolDown = coolDown
        self.maxCoolDown = maxCoolDown
        self.window = window
        self.failures = failures
        self.throttles = throttles
    }
}

/// One provider's health as a sender sees it, from the answers it got. A refused connection
/// or a refused campaign demotes the provider at once; server errors, lost answers or
/// throttling demote it once they pass the policy's share of the last answers. A demoted
/// provider is left alone for its cool-down, then tried again: the first answer after it
/// decides. An answer restores it; another failure demotes it again for twice as long.
public struct ProviderHealth: Sendable, Equatable {
    public let policy: FailoverPolicy
    private var recent: [ProviderSignal] = []
    /// Until when it is demoted (ms since 1970); nil while it is in good standing.
    public private(set) var demotedUntil: Int64?
    /// Demotions in a row, without an answer in between.
    public private(set) var demotions = 0
    /// Why it was last demoted.
    public private(set) var reason: String?

    public init(policy: FailoverPolicy = FailoverPolicy()) { self.policy = policy }

    /// Whether rows that may move should avoid it at `now`.
    public func isDemoted(at now: Int64) -> Bool { demotedUntil.map { now < $0 } ?? false }

    /// Records an answer received at `now`; returns the cool-down's end when this answer
    /// demotes the provider.
    @discardableResult
    public mutating func record(_ signal: ProviderSignal, at now: Int64) -> Int64? {
        if let until = demotedUntil {
            // Answers to requests made before the demotion change nothing during it.
            if now < until { return nil }
            if signal == .answered {
                demotedUntil = nil
                demotions = 0
                reason = nil
                recent = []
                return nil
            }
            // The first answer after the cool-down failed too: demoted again, for longer.
            return demote(Self.describe(signal), at: now)
        }
        if signal == .answered, recent.isEmpty { return nil }
        recent.append(signal)
        if recent.count > policy.window { recent.removeFirst(recent.count - policy.window) }
        switch signal {
        case .unreached, .refused: return demote(Self.describe(signal), at: now)
        case .failing where recent.count(where: { $0 == .failing }) >= policy.failures:
            return demote("\(policy.failures) server errors or lost answers in its last \(recent.count) answers", at: now)
        case .throttled where recent.count(where: { $0 == .throttled }) >= policy.throttles:
            return demote("throttled \(policy.throttles) times in its last \(recent.count) answers", at: now)
        default:
            if recent.allSatisfy({ $0 == .answered }) { recent = [] }
            return nil
        }
    }

    /// Takes a demotion another sender of the campaign made (`SharedDemotion`): demoted until
    /// `until` for `why`, unless it already is for as long. True when that changed anything. The
    /// demotions in a row are not counted up: this sender did not see the failure.
    public mutating func adopt(until: Int64, why: String, at now: Int64) -> Bool {
        guard until > now, (demotedUntil ?? .min) < until else { return false }
        demotedUntil = until
        reason = why
        recent = []
        return true
    }

    /// Demotes it for slow deliveries (`SlowDeliveryRule`), unless it is demoted already;
    /// returns the cool-down's end when it does.
    public mutating func demoteSlow(_ why: String, at now: Int64) -> Int64? {
        if isDemoted(at: now) { return nil }
        return demote(why, at: now)
    }

    private mutating func demote(_ why: String, at now: Int64) -> Int64 {
        let length = min(policy.maxCoolDown, policy.coolDown << min(demotions, 20))
        demotions += 1
        reason = why
        recent = []
        let until = now + length
        demotedUntil = until
        return until
    }

    private static func describe(_ signal: ProviderSignal) -> String {
        switch signal {
        case .unreached: "a request never reached it"
        case .refused: "it refused the campaign"
        case .failing: "a server error or lost answer after its cool-down"
        case .throttled: "throttled after its cool-down"
        case .answered: "answered"
        }
    }
}

/// Failover that never guesses: when a row may leave its provider for another.
public enum FailoverRule {
    /// Whether a row may move to another provider after `signal` (nil: it was not sent,
    /// its provider being demoted). Only when nothing about it may have reached any provider:
    /// no attempt of it was answered (`attempts` counts answers; none of the signals that
    /// allow a move counts as one), no earlier request of it may have got through (`doubted`:
    /// a lost answer, a crash while it was out), and this answer proves its provider never
    /// took it: the request never arrived, the provider refused the campaign, or it throttled
    /// while demoted. A server error, a lost answer or an accepted request never moves a row:
    /// it stays with its provider, settled by its receipts or sent again with the same key.
    public static func mayMove(after signal: ProviderSignal?, attempts: Int, doubted: Bool, providerDemoted: Bool) -> Bool {
        guard attempts == 0, !doubted else { return false }
        switch signal {
        case nil: return providerDemoted
        case .unreached, .refused: return true
        case .throttled: return providerDemoted
        case .failing, .answered: return false
        }
    }

    /// The provider a moving row goes to: chosen by the campaign's rule among the providers
    /// that fit the row (`candidates`, in the file's order, each with what the row costs
    /// through it), leaving out the one it leaves and those demoted. Nil when none is left:
    /// the row stays and is retried where it is.
    public static func alternative(_ candidates: [RouteCandidate], leaving route: Int, demoted: Set<Int>, rule: RouteRule,
                                   line: Int) -> RouteCandidate? {
        rule.choose(candidates.filter { $0.route != route && !demoted.contains($0.route) }, line: line)
    }
}

/// A row moved to another provider: where it goes, and what it costs and counts there.
public struct RouteMove: Sendable, Equatable {
    public let from: Int
    public let to: Int
    /// SMS parts as the new provider counts them, and its price of them (nano-dollars).
    public let parts: Int
    public let cost: Int64
    /// Why (the old provider's answer).
    public let reason: String

    public init(from: Int, to: Int, parts: Int, cost: Int64, reason: String) {
        self.from = from
        self.to = to
        self.parts = parts
        self.cost = cost
        self.reason = reason
    }
}

/// Rows moved between two providers for one reason, as `status` and the report show them.
public struct RouteSwitchSummary: Sendable, Equatable, Codable {
    public let from: Int
    public let to: Int
    public let reason: String
    public let rows: Int
    /// First and last move (ms since 1970).
    public let first: Int64
    public let last: Int64

    public init(from: Int, to: Int, reason: String, rows: Int, first: Int64, last: Int64) {
        self.from = from
        self.to = to
        self.reason = reason
        self.rows = rows
        self.first = first
        self.last = last
    }
}
