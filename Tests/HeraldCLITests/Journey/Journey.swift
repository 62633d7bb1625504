import Foundation
import HeraldCore

/// One random journey: what users and the world do to a campaign, drawn from a seed, in
/// the spirit of FoundationDB's simulation tests and TigerBeetle's VOPR. The same seed
/// always gives the same journey (what the processes then do is timing, which varies).
struct Journey: CustomStringConvertible {
    enum Store: String, CaseIterable {
        /// SQLite at the default path, `.herald/journal.sqlite`.
        case sqliteDefault = "sqlite"
        /// SQLite at `--journal PATH`.
        case sqlitePath = "sqlite-path"
        case postgres
    }

    /// How a command ends.
    enum Fault: Equatable, CustomStringConvertible {
        case none
        case interrupt(afterMs: Int)
        case kill(afterMs: Int)

        var description: String {
            switch self {
            case .none: ""
            case .interrupt(let ms): " & sleep \(Double(ms) / 1000); kill -INT $!"
            case .kill(let ms): " & sleep \(Double(ms) / 1000); kill -KILL $!"
            }
        }
    }

    enum Step: CustomStringConvertible {
        case run(Fault)
        case resume(Fault)
        case limit(Int)
        /// `herald pause` while a run sends, then the run's exit.
        case pause(afterMs: Int)
        /// SIGSTOP past the lease (PostgreSQL), a second sender takes over, then SIGCONT.
        case freeze(afterMs: Int)
        /// PostgreSQL: the journal's database refuses connections and its sessions are ended
        /// `afterMs` into a run, for `seconds` (shorter than the lease, or longer).
        case outage(afterMs: Int, seconds: Double)
        /// `herald suppress add` of a recipient's number.
        case suppress(recipient: Int)
        /// `herald receipts import` of AWS-style records for these rows (CSV lines).
        case receipts(rows: [Int], delivered: Bool)
        /// `herald journal copy` of the SQLite journal to PostgreSQL; the journey goes on there.
        case copyToPostgres
        /// `herald cancel` while a run sends (or between runs): final.
        case cancel(afterMs: Int)

        var description: String {
            switch self {
            case .run(let fault): "herald run c.yaml\(fault)"
            case .resume(let fault): "herald resume c\(fault)"
            case .limit(let count): "herald run c.yaml --limit \(count)"
            case .pause(let ms): "herald run c.yaml & sleep \(Double(ms) / 1000); herald pause c; wait"
            case .freeze(let ms): "herald run c.yaml & sleep \(Double(ms) / 1000); kill -STOP $!; sleep LEASE+1; herald resume c; kill -CONT $!; wait"
            case .outage(let ms, let seconds):
                "herald run c.yaml & sleep \(Double(ms) / 1000); <database refuses connections, sessions ended> for \(seconds) s; wait"
            case .suppress(let recipient): "herald suppress add <recipient \(recipient)>"
            case .receipts(let rows, let delivered):
                "herald receipts import events.json   # \(delivered ? "TEXT_DELIVERED" : "TEXT_CARRIER_UNREACHABLE") for lines \(rows.map(String.init).joined(separator: ","))"
            case .copyToPostgres: "herald journal copy --from .herald/journal.sqlite --to $PG   # then --journal $PG"
            case .cancel(let ms): "herald run c.yaml & sleep \(Double(ms) / 1000); herald cancel c; wait"
            }
        }
    }

    let seed: UInt64
    let store: Store
    let recipients: Int
    let messagesPerSecond: Int
    let receipts: Bool
    /// Transient and permanent failure shares, and a throttle (messages/s), of the simulator.
    let failureRate: Double
    let permanentFailureRate: Double
    let throttle: Int?
    /// Share of deliveries whose answer the simulator loses (the request got through).
    let lostAnswerRate: Double
    /// The campaign limit in messages at `unitPrice` (nil: none), so a budget may stop the run.
    let budgetMessages: Int?
    let steps: [Step]
    /// Two simulated providers in one campaign (`providers:`, weighted), the second with an
    /// outage: a third of its answers refused as transient failures.
    let routed: Bool
    /// The audience and content features together: a `where:` segment, a template in two
    /// languages with conditional text, and `smart_encoding` (the outbox's texts are checked).
    let content: Bool
    /// A pool of two sender identities on the first provider, each at half the campaign's rate.
    let pooled: Bool

    /// Nano-dollars a message: every number is a one-part SMS priced `*,sms`.
    static let unitPrice: Int64 = 7_500_000

    /// SIGSTOP-past-the-lease steps are drawn on PostgreSQL, in CI's seeds too.
    init(seed: UInt64, store: Store, postgresAvailable: Bool) {
        var random = SplitMix64(seed: seed)
        self.seed = seed
        self.store = store
        recipients = Int.random(in: 60...400, using: &random)
        messagesPerSecond = [300, 800, 2000][Int.random(in: 0...2, using: &random)]
        receipts = Bool.random(using: &random)
        failureRate = random.unit() < 0.4 ? 0.05 : 0
        permanentFailureRate = random.unit() < 0.3 ? 0.03 : 0
        throttle = random.unit() < 0.2 ? messagesPerSecond / 2 : nil
        budgetMessages = random.unit() < 0.3 ? Int.random(in: recipients / 3...recipients, using: &random) : nil
        lostAnswerRate = random.unit() < 0.25 ? 0.03 : 0
        var drawn: [Step] = []
        let sendTime = max(100, recipients * 1000 / messagesPerSecond)
        func fault() -> Fault {
            switch Int.random(in: 0...2, using: &random) {
            case 0: .none
            case 1: .interrupt(afterMs: Int.random(in: 30...sendTime + 200, using: &random))
            default: .kill(afterMs: Int.random(in: 30...sendTime + 200, using: &random))
            }
        }
        var copied = false
        for _ in 0..<Int.random(in: 3...8, using: &random) {
            switch Int.random(in: 0...99, using: &random) {
            case 0..<25: drawn.append(.run(fault()))
            case 25..<45: drawn.append(.resume(fault()))
            case 45..<55: drawn.append(.limit(Int.random(in: 1...recipients / 2, using: &random)))
            case 55..<65: drawn.append(.pause(afterMs: Int.random(in: 20...sendTime, using: &random)))
            case 65..<73 where store == .postgres:
                drawn.append(.freeze(afterMs: Int.random(in: 20...sendTime, using: &random)))
            case 73..<78 where store == .postgres:
                // Half shorter than the lease (the sender reconnects), half longer (it stops, exit 4).
                let seconds = random.unit() < 0.5 ? 0.3 + random.unit() * 0.7 : 2.5 + random.unit()
                drawn.append(.outage(afterMs: Int.random(in: 20...sendTime, using: &random), seconds: (seconds * 10).rounded() / 10))
            case 65..<80: drawn.append(.suppress(recipient: Int.random(in: 0..<recipients, using: &random)))
            case 80..<92:
                let count = Int.random(in: 1...min(20, recipients), using: &random)
                let last = recipients + 1
                var rows: [Int] = []
                for _ in 0..<count { rows.append(Int.random(in: 2...last, using: &random)) }
                drawn.append(.receipts(rows: rows, delivered: random.unit() < 0.8))
            case 92..<95: drawn.append(.cancel(afterMs: Int.random(in: 0...sendTime, using: &random)))
            default:
                if store != .postgres, postgresAvailable, !copied {
                    copied = true
                    drawn.append(.copyToPostgres)
                } else {
                    drawn.append(.run(fault()))
                }
            }
        }
        self.steps = drawn
        // Drawn last, so that a seed's steps stay what they were before routing was drawn.
        routed = random.unit() < 0.35
        content = random.unit() < 0.4
        pooled = random.unit() < 0.3
    }

    /// A row of a content journey: its language cell, whether VIP, its points. `where:` keeps
    /// rows with 2 points or more, or VIPs.
    static func contentRow(_ index: Int) -> (lang: String, vip: Bool, points: Int, kept: Bool) {
        let lang = ["en", "es", "ES_mx", "", "fr"][index % 5]
        let vip = index % 3 == 0, points = index % 7
        return (lang, vip, points, points >= 2 || vip)
    }

    /// The text a kept row of a content journey must arrive as: Spanish for `es` and `es-*` in
    /// any case (`_` for `-`), English (the default) otherwise; the VIP line only for VIPs in
    /// English, "Gracias." only for others in Spanish; the curly apostrophe sent as `'`.
    static func expectedText(_ index: Int) -> String {
        let row = contentRow(index)
        let code = "C\(String(format: "%03d", index % 1000))"
        if row.lang.lowercased().hasPrefix("es") {
            return "Hola Person \(index), su código es \(code).\(row.vip ? "" : " Gracias.")"
        }
        return "Hi Person \(index), your code is \(code).\(row.vip ? " You're a gold member." : "")"
    }

    /// The sender identities of a pooled journey.
    static let poolIdentities = ["+15550100", "+15550101"]

    var description: String {
        var lines = [
            "journey seed \(seed) on \(store.rawValue): \(recipients) recipients, \(messagesPerSecond) msg/s, "
                + "receipts \(receipts ? "on" : "off"), failure \(failureRate)/\(permanentFailureRate), "
                + "throttle \(throttle.map(String.init) ?? "none"), lost answers \(lostAnswerRate), budget \(budgetMessages.map { "\($0) messages" } ?? "none")"
                + (routed ? ", two providers (weighted; the second with an outage)" : "")
                + (content ? ", where: + two languages + conditional text + smart encoding" : "")
                + (pooled ? ", a pool of two senders" : ""),
        ]
        lines += steps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
        lines.append("  then: herald resume c   # until it ends")
        lines.append("replay: HERALD_JOURNEY_SEED=\(seed) HERALD_JOURNEY_STORE=\(store.rawValue) swift test --filter JourneyTests/replay")
        return lines.joined(separator: "\n")
    }
}
