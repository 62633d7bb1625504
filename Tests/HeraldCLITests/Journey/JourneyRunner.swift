import Foundation
import HeraldCore
import HeraldTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Plays a `Journey` against real `herald` processes and checks a model of what must hold
/// after every step; the first broken rule ends the journey with its seed and its commands.
struct JourneyRunner {
    struct Broken: Error, CustomStringConvertible {
        let rule: String
        let step: Int
        let journey: Journey
        let log: [String]
        var description: String {
            "journey broke a rule after step \(step): \(rule)\n\(journey)\nwhat happened:\n"
                + log.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    /// What one journey did, for the figures.
    struct Figures {
        var steps = 0
        var processes = 0
        var interrupts = 0
        var kills = 0
        var freezes = 0
        /// Runs whose journal's database went away (PostgreSQL).
        var outages = 0
        var sent = 0
        /// Journeys with two providers (one here, or a sum).
        var routed = 0
        /// Journeys with `where:`, languages, conditional text and smart encoding; with a sender pool.
        var content = 0
        var pooled = 0
    }

    let journey: Journey
    let fixture: CLIFixture
    private(set) var journal: [String]
    private let postgres: String?
    private var log: [String] = []
    private var step = 0
    private var importedReceipts = false
    private var suppressed = false
    /// `herald cancel` took: the campaign ends cancelled, what may have been delivered in doubt.
    private var cancelled = false
    /// Numbers put on the suppression list during the journey.
    private var suppressedNumbers: Set<String> = []
    /// The last sender was SIGKILLed: its rows stay `sending` until the next sender opens the campaign.
    private var killedAt: Date?
    /// When the last sender started.
    private var senderStarted = Date()
    /// Rows a SIGKILLed sender left `sending` may still be so: on SQLite until the next
    /// sender opens the campaign, on PostgreSQL until one starts after the lease expired.
    private var killedInFlight: Bool { killedAt != nil }
    private var onPostgres: Bool { journal.count == 2 && journal[1].hasPrefix("postgres") }

    /// A sender (started at `senderStarted`) ended without being killed.
    private mutating func senderEnded() {
        guard let killed = killedAt else { return }
        if !onPostgres || senderStarted.timeIntervalSince(killed) > Self.leaseTimeout + 0.5 { killedAt = nil }
    }

    /// The PostgreSQL journeys' `lease_timeout` (seconds).
    static let leaseTimeout = 2.0
    private(set) var figures = Figures()
    /// Exit codes `herald` documents (README, "Exit codes"), and 137 for our own SIGKILL.
    static let documented: Set<Int32> = [0, 3, 4, 5, 6, 7, 8, 9, 10, 64, 130, 143]

    init(_ journey: Journey, postgres: String?) throws {
        self.journey = journey
        self.postgres = postgres
        figures.routed = journey.routed ? 1 : 0
        figures.content = journey.content ? 1 : 0
        figures.pooled = journey.pooled ? 1 : 0
        fixture = try CLIFixture()
        switch journey.store {
        case .sqliteDefault: journal = []
        case .sqlitePath: journal = ["--journal", "journals/j.sqlite"]
        case .postgres:
            guard let postgres else { throw JourneySkipped() }
            journal = ["--journal", postgres]
        }
        let rows = CLIFixture.rows(journey.recipients)
        if journey.content {
            let lines = rows.enumerated().map { index, row in
                let content = Journey.contentRow(index)
                return "\(row.line),\(content.lang),\(content.vip ? "yes" : "no"),\(content.points)"
            }
            try fixture.write("recipients.csv", "phone,name,code,lang,vip,points\n" + lines.joined(separator: "\n") + "\n")
            try fixture.write("template.yaml", Self.contentTemplate)
        } else {
            try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
            try fixture.write("template.yaml", CLIFixture.template)
        }
        try fixture.write("prices.csv", "country,channel,price\n*,sms,\(Money(nanos: Journey.unitPrice))\n")
        func simulator(outbox: String, seed: UInt64, failureRate: Double, losesAnswers: Bool = true, unreachable: Double = 0,
                       pool: Bool = false) -> String {
            var simulator = "{kind: simulator, latency_ms: \"1-3\", outbox: \(outbox), seed: \(seed)"
            if failureRate > 0 { simulator += ", failure_rate: \(failureRate)" }
            if unreachable > 0 { simulator += ", unreachable_rate: \(unreachable)" }
            if journey.permanentFailureRate > 0 { simulator += ", permanent_failure_rate: \(journey.permanentFailureRate)" }
            if let throttle = journey.throttle { simulator += ", throttle_mps: \(throttle)" }
            if losesAnswers, journey.lostAnswerRate > 0 { simulator += ", lost_answer_rate: \(journey.lostAnswerRate)" }
            if journey.receipts { simulator += ", receipts: {delivered: 0.9, undelivered: 0.05, read: 0.3, latency_ms: \"10-300\"}" }
            if pool {
                let share = max(1, journey.messagesPerSecond / 2)
                simulator += ", senders: [" + Journey.poolIdentities.map { "{id: \"\($0)\", messages_per_second: \(share), burst: 10}" }
                    .joined(separator: ", ") + "]"
            }
            return simulator + "}"
        }
        let first = simulator(outbox: "outbox.jsonl", seed: journey.seed % 100_000, failureRate: journey.failureRate, pool: journey.pooled)
        let outage = simulator(outbox: "outbox-b.jsonl", seed: journey.seed % 100_000 + 1, failureRate: 0.3, unreachable: 0.2)
        var extra = "rate: {messages_per_second: \(journey.messagesPerSecond), burst: 20, max_in_flight: 8}\nprices: prices.csv"
        if let budget = journey.budgetMessages {
            extra += "\nbudget: {campaign_limit: \(Money(nanos: Journey.unitPrice * Int64(budget)))}"
        }
        if journey.content { extra += "\nwhere: points >= 2 or vip\nsmart_encoding: true" }
        if journey.routed {
            // Each provider its own outbox (its own ledger); until the journey's steps are over
            // (`afterOutage`) the second refuses a third of its sends and a fifth of its requests
            // never reach it, so failover moves its rows that may move to the first.
            let second = outage
            let withName = { (name: String, settings: String) in "{name: \(name), " + settings.dropFirst() }
            let campaign = """
                id: c
                template: template.yaml
                recipients: recipients.csv
                routing: weighted
                providers:
                  - \(withName("a", first))
                  - \(withName("b", second))
                \(extra)
                """
            try fixture.write("c.yaml", campaign)
        } else {
            try fixture.write("c.yaml", "id: c\ntemplate: template.yaml\nrecipients: recipients.csv\nprovider: \(first)\n\(extra)\n")
        }
        // Healed: no transient failures, no lost answers, on either provider.
        let text = try String(contentsOfFile: fixture.path("c.yaml"), encoding: .utf8)
        afterOutage = text.replacingOccurrences(
            of: String(first.dropFirst()),
            with: String(simulator(outbox: "outbox.jsonl", seed: journey.seed % 100_000, failureRate: 0, losesAnswers: false,
                                   pool: journey.pooled).dropFirst()))
            .replacingOccurrences(
                of: String(outage.dropFirst()),
                with: String(simulator(outbox: "outbox-b.jsonl", seed: journey.seed % 100_000 + 1, failureRate: 0, losesAnswers: false).dropFirst()))
    }

    /// A content journey's template: English and Spanish, conditional text, a curly apostrophe
    /// that smart encoding sends as `'`.
    static let contentTemplate = """
        id: t
        channel: sms
        variables:
          name: {type: string, required: true}
          code: {type: string, required: true, pattern: "[A-Z0-9]{4}"}
          vip: {type: boolean, default: "no"}
          points: {type: integer, default: 0}
        language:
          column: lang
          default: en
          variants:
            en: {body: "Hi <name>, your code is <code>.<vip? You’re a gold member.>"}
            es: {body: "Hola <name>, su código es <code>.<!vip? Gracias.>"}
        """

    /// The campaign file once the providers have healed (the second one's outage over, no
    /// transient failures or lost answers), for the final resumes. The simulator draws from its
    /// seed, the same in every process: a row resent after a crash met the same refusal or lost
    /// answer at every resume and stayed in doubt (rightly: neither proves anything; seeds
    /// 61222, 61432, 61483). A person resumes once the provider works again.
    private var afterOutage: String?

    /// The simulators' outboxes: what each provider accepted.
    private var outboxes: [String] { journey.routed ? ["outbox.jsonl", "outbox-b.jsonl"] : ["outbox.jsonl"] }

    /// Plays every step, then resumes until the campaign ends, checking after each.
    mutating func play() throws {
        for (index, step) in journey.steps.enumerated() {
            self.step = index + 1
            figures.steps += 1
            try perform(step)
            try check(final: false)
        }
        step = journey.steps.count + 1
        var last: Int32 = -1
        // On PostgreSQL a killed sender's rows wait for its lease to expire.
        if onPostgres, let killed = killedAt {
            let wait = Self.leaseTimeout + 0.6 - Date().timeIntervalSince(killed)
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
        if let afterOutage {
            try fixture.write("c.yaml", afterOutage)
            log.append("the providers have healed: no transient failures or lost answers from here")
        }
        // A journey whose sends all failed before the first import has no campaign yet: `run`.
        var command = ["resume", "c"]
        for _ in 0..<8 {
            senderStarted = Date()
            last = try herald(command, allowed: [0, 3, 4, 6, 7, 8], timeout: 180)
            if last == 3 || (last == 4 && !journalExists), command[0] == "resume" {
                command = ["run", "c.yaml"]
                continue
            }
            senderEnded()
            // Ended, unless rows are left in doubt: a resend after a crash whose attempts all met
            // transient failures may have been delivered the first time, so it ends in doubt, not
            // failed (seed 30071). A person resumes again, and it is resent (the provider dedupes).
            if last == 0 || last == 7, try inDoubtNow() == 0 { break }
            // Cancelled is final: what may have been delivered stays in doubt.
            if last == 8, cancelled { break }
        }
        guard last == 0 || last == 7 || (last == 8 && cancelled) else {
            throw broken("the final resume did not end the campaign (exit \(last))")
        }
        try check(final: true, budgetStopped: last == 7)
    }

    // MARK: steps

    private mutating func perform(_ step: Journey.Step) throws {
        switch step {
        case .run(let fault): try send(["run", "c.yaml"], fault)
        case .resume(let fault):
            // Before the first run there is nothing to resume: exit 3, unknown campaign.
            try send(["resume", "c"], fault, alsoAllowed: [3])
        case .limit(let count):
            senderStarted = Date()
            _ = try herald(["run", "c.yaml", "--limit", "\(count)"], allowed: [0, 6, 7, 8])
            senderEnded()
        case .pause(let ms):
            let run = try start(["run", "c.yaml"])
            usleep(UInt32(ms) * 1000)
            _ = try herald(["pause", "c"], allowed: [0, 3])
            try finish(run, "run", allowed: [0, 6, 7, 8])
        case .freeze(let ms):
            let run = try start(["run", "c.yaml"])
            usleep(UInt32(ms) * 1000)
            run.signal(SIGSTOP)
            figures.freezes += 1
            log.append("SIGSTOP the run; waiting past the lease")
            usleep(3_000_000)
            // The simulator runs inside each sender, its outbox shared under a file lock: a run
            // frozen while it holds that lock holds the simulated provider too, and every other
            // sender's sends are answered "throttled" until it thaws (seed 20675: before, they
            // blocked, heartbeat and all). A person would press Ctrl-C; so does the journey, once
            // the lock has been held for 10 s on end. Any other wait fails at 120 s.
            let resume = try start(["resume", "c"])
            let deadline = Date().addingTimeInterval(120)
            var heldSince: Date?
            var interrupted = false
            while resume.isRunning, Date() < deadline {
                heldSince = outboxLocked() ? heldSince ?? Date() : nil
                if let since = heldSince, Date().timeIntervalSince(since) > 10 {
                    log.append("the frozen run holds the simulator's outbox lock: Ctrl-C the resume")
                    resume.signal(SIGINT)
                    figures.interrupts += 1
                    interrupted = true
                    break
                }
                usleep(100_000)
            }
            try finish(resume, "resume", allowed: interrupted ? [130] : [0, 3, 6, 7, 8], timeout: max(1, deadline.timeIntervalSinceNow))
            run.signal(SIGCONT)
            try finish(run, "frozen run", allowed: [0, 5, 6, 7, 8])
        case .outage(let ms, let seconds):
            let run = try start(["run", "c.yaml"])
            usleep(UInt32(ms) * 1000)
            try journalReachable(false)
            defer { try? journalReachable(true) }
            figures.outages += 1
            log.append("the journal's database refuses connections, its sessions ended, for \(seconds) s (lease \(Self.leaseTimeout) s)")
            usleep(UInt32(seconds * 1_000_000))
            try journalReachable(true)
            // Back within the lease, the run goes on; past it, it stops (exit 4, "could not make
            // it again"), its rows left `sending` under its lease as a killed sender's.
            let result = run.wait(timeout: 180)
            log.append("run (journal away): exit \(result.status)" + (result.stderr.isEmpty ? "" : ": \(result.stderr.suffix(300))"))
            if result.status == 4 {
                guard result.stderr.contains("could not make it again") || result.stderr.contains("cannot connect")
                    || result.stderr.contains("was lost") else {
                    throw broken("run exited 4 during the outage without saying the journal was lost")
                }
                killedAt = Date()
            } else {
                if result.status != 3 { senderEnded() }
                try judge(result.status, allowed: [0, 6, 7, 8], what: "run (journal away)")
            }
        case .suppress(let recipient):
            let phone = CLIFixture.rows(journey.recipients)[recipient].phone
            _ = try herald(["suppress", "add", phone], allowed: [0])
            suppressed = true
            suppressedNumbers.insert(phone)
        case .receipts(let rows, let delivered):
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let type = delivered ? "TEXT_DELIVERED" : "TEXT_CARRIER_UNREACHABLE"
            let lines = rows.map { row in
                #"{"eventType":"\#(type)","messageId":"m-\#(row)","eventTimestamp":\#(now),"isFinal":true,"totalMessagePrice":0.0075,"context":{"campaign":"c","herald_row":"\#(row)"}}"#
            }
            try fixture.write("events.json", lines.joined(separator: "\n") + "\n")
            _ = try herald(["receipts", "import", "events.json"], allowed: [0, 3])
            importedReceipts = true
        case .cancel(let ms):
            let run = try start(["run", "c.yaml"])
            usleep(UInt32(ms) * 1000)
            // Before the run imported the campaign there is nothing to cancel (3; 4 without a journal).
            let code = try herald(["cancel", "c"], allowed: [0, 3, 4])
            try finish(run, "run", allowed: [0, 6, 7, 8])
            // Taken unless the campaign had completed. It may read another state a while: on
            // PostgreSQL, while a killed sender's lease lives, the campaign keeps the state its
            // last run left (seed 61337: budget_exhausted) until an open finishes the cancel.
            if code == 0, try campaignState() != "completed" { cancelled = true }
        case .copyToPostgres:
            guard let postgres else { return }
            let from = journal.count == 2 ? journal[1] : ".herald/journal.sqlite"
            // Nothing to copy before the first run; the journey stays on SQLite then.
            guard FileManager.default.fileExists(atPath: fixture.path(from)) else {
                log.append("no journal yet: nothing to copy")
                return
            }
            let code = try herald(["journal", "copy", "--from", from, "--to", postgres], allowed: [0, 5], journal: false)
            if code == 0 { journal = ["--journal", postgres] }
        }
    }

    /// The campaign's state, as `status` says.
    private mutating func campaignState() throws -> String? {
        let status = try HeraldProcess.run(["status", "c", "--json"] + journal, in: fixture.folder)
        figures.processes += 1
        let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return object?["state"] as? String
    }

    /// Rows in doubt, as `status` says.
    private mutating func inDoubtNow() throws -> Int {
        let status = try HeraldProcess.run(["status", "c", "--json"] + journal, in: fixture.folder)
        figures.processes += 1
        let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return (object?["counts"] as? [String: Int])?["in_doubt"] ?? 0
    }

    /// The journey's PostgreSQL database refusing new connections with its sessions ended
    /// (for herald, the server gone), or taking connections again.
    private func journalReachable(_ reachable: Bool) throws {
        guard let postgres else { return }
        try TestPostgres.reachable(postgres, reachable)
    }

    /// Whether a process holds the simulator's outbox lock (this one takes and drops it when free).
    private func outboxLocked() -> Bool {
        outboxes.contains { name in
            let fd = open(fixture.path(name), O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
            flock(fd, LOCK_UN)
            return false
        }
    }

    /// A sending command with a fault at a random moment.
    private mutating func send(_ arguments: [String], _ fault: Journey.Fault, alsoAllowed: Set<Int32> = []) throws {
        let process = try start(arguments)
        let allowed = Set<Int32>([0, 6, 7, 8]).union(alsoAllowed)
        switch fault {
        case .none: break
        case .interrupt(let ms):
            usleep(UInt32(ms) * 1000)
            process.signal(SIGINT)
            figures.interrupts += 1
            try finish(process, arguments[0] + " (SIGINT)", allowed: allowed.union([130]))
            return
        case .kill(let ms):
            usleep(UInt32(ms) * 1000)
            process.signal(SIGKILL)
            figures.kills += 1
            try finish(process, arguments[0] + " (SIGKILL)", allowed: allowed.union([137]))
            return
        }
        try finish(process, arguments[0], allowed: allowed)
    }

    private mutating func start(_ arguments: [String]) throws -> HeraldProcess {
        figures.processes += 1
        senderStarted = Date()
        return try HeraldProcess(arguments + journal, in: fixture.folder)
    }

    private mutating func finish(_ process: HeraldProcess, _ what: String, allowed: Set<Int32>, timeout: Double = 180) throws {
        let result = process.wait(timeout: timeout)
        if result.status == 137 { killedAt = Date() } else if result.status != 3 { senderEnded() }
        log.append("\(what): exit \(result.status)" + (result.stderr.isEmpty ? "" : ": \(result.stderr.suffix(300))"))
        try judge(result.status, allowed: allowed, what: what)
    }

    /// Runs a command to its end; its exit code must be documented and one of `allowed`.
    private mutating func herald(_ arguments: [String], allowed: Set<Int32>, timeout: Double = 120, journal: Bool = true) throws -> Int32 {
        figures.processes += 1
        // A run started beside this command may create the journal while it runs (seed 61336:
        // `cancel` 29 ms after `run` found none, and the run had made it by the time of judging).
        let existed = journalExists
        let result = try HeraldProcess.run(arguments + (journal ? self.journal : []), in: fixture.folder, timeout: timeout)
        log.append("\(arguments.joined(separator: " ")): exit \(result.status)"
                   + (result.stderr.isEmpty ? "" : ": \(result.stderr.suffix(300))"))
        try judge(result.status, allowed: allowed, what: arguments[0], journalExisted: existed)
        return result.status
    }

    /// Whether the SQLite journal file exists yet (before the first run it does not, and a
    /// command that needs it exits 4 "no journal here yet", as documented).
    private var journalExists: Bool {
        guard journal.count == 2, !journal[1].hasPrefix("postgres") else {
            return journal.isEmpty ? FileManager.default.fileExists(atPath: fixture.path(".herald/journal.sqlite")) : true
        }
        return FileManager.default.fileExists(atPath: fixture.path(journal[1]))
    }

    private func judge(_ status: Int32, allowed: Set<Int32>, what: String, journalExisted: Bool? = nil) throws {
        guard Self.documented.contains(status) || status == 137 else {
            throw broken("\(what) exited \(status), which is not documented")
        }
        guard status != 1 else { throw broken("\(what) exited 1 (unexpected error)") }
        if status == 4 {
            guard !(journalExisted ?? journalExists) || !journalExists else { throw broken("\(what) exited 4 on a healthy journal") }
            return
        }
        guard allowed.contains(status) else { throw broken("\(what) exited \(status); expected one of \(allowed.sorted())") }
    }

    // MARK: the model

    private mutating func check(final: Bool, budgetStopped: Bool = false) throws {
        guard journalExists else { return }  // nothing has run yet
        let status = try HeraldProcess.run(["status", "c", "--json"] + journal, in: fixture.folder)
        figures.processes += 1
        if status.status == 3 { return }  // nothing imported yet: no campaign to check
        let keys = ["\"sent\"", "\"retry\"", "\"pending\"", "\"in_doubt\"", "\"spent\"", "\"reserved\"", "\"failed\"", "\"state\""]
        let lines = status.stdout.split(separator: "\n").filter { line in keys.contains { line.contains($0) } }
        log.append("status: " + lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
        guard status.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
            let counts = object["counts"] as? [String: Int], let spend = object["spend"] as? [String: Any]
        else { throw broken("status exited \(status.status): \(status.stderr.suffix(300))") }
        let sent = counts["sent"] ?? 0
        figures.sent = sent
        let delivery = object["delivery"] as? [String: Any]
        let delivered = delivery?["delivered"] as? Int ?? 0
        // Receipts can beat the answers: rows a SIGKILLed sender left in flight may already be
        // delivered; the next sender settles them. With no sender killed, never more than sent.
        let inFlight = killedInFlight ? (counts["sending"] ?? 0) + (counts["in_doubt"] ?? 0) : 0
        guard delivered <= sent + inFlight else { throw broken("delivered \(delivered) exceeds sent \(sent)") }
        if !killedInFlight, counts["sending"] ?? 0 > 0 {
            throw broken("\(counts["sending"] ?? 0) rows are `sending` with no herald process running")
        }

        let entries = try outboxEntries()
        let outbox = entries.map(\.destination)
        try checkContent(entries)
        let repeated = Dictionary(grouping: outbox, by: { $0 }).filter { $0.value.count > 1 }
        guard repeated.isEmpty else { throw broken("the provider accepted \(repeated.count) recipients twice") }
        if !importedReceipts, outbox.count < sent {
            throw broken("the journal counts \(sent) sent, the provider accepted \(outbox.count)")
        }

        let money: (String) -> Int64 = { key in (spend[key] as? String).flatMap { Money($0) }?.nanos ?? 0 }
        let spent = money("spent")
        let reserved = money("reserved")
        // A receipt saying a waiting row was delivered settles it, billed: what the provider
        // reports is spent whatever the limit (the imported receipts here are made up).
        if !importedReceipts, let budget = journey.budgetMessages, spent + reserved > Journey.unitPrice * Int64(budget) {
            throw broken("spend \(Money(nanos: spent)) + reserved \(Money(nanos: reserved)) passes the campaign limit")
        }
        let doctor = try HeraldProcess.run(["doctor", "c"] + journal, in: fixture.folder)
        figures.processes += 1
        guard doctor.status == 0 else { throw broken("doctor exited \(doctor.status): \(doctor.stdout.suffix(400))") }
        guard final else { return }
        try checkContentTotals(object, sent: sent)

        let open = (counts["pending"] ?? 0) + (counts["retry"] ?? 0)
        // A cancel leaves in doubt what may have been delivered; nothing else ends in doubt.
        let inDoubt = counts["in_doubt"] ?? 0
        guard inDoubt == 0 || cancelled else { throw broken("\(inDoubt) rows in doubt at the end") }
        if !budgetStopped {
            guard open == 0 else { throw broken("\(open) rows still open after the final resume") }
            let ended = sent + (counts["failed"] ?? 0) + (counts["skipped"] ?? 0) + inDoubt
            guard ended == journey.recipients else { throw broken("\(ended) rows ended of \(journey.recipients)") }
        }
        // Spend never under-counts what the provider accepted; it equals it where every row
        // ended sent. A row made due again after a lost answer or a crash counts its first
        // attempt (it may have been delivered): one that then fails, or is suppressed, keeps it.
        let price = Journey.unitPrice
        let accepted = Int64(importedReceipts ? sent : max(sent, outbox.count))
        let failed = counts["failed"] ?? 0, skipped = counts["skipped"] ?? 0
        let described = "spend \(Money(nanos: spent)) (reserved \(Money(nanos: reserved))) for \(sent) sent, \(outbox.count) accepted, "
            + "\(failed) failed, \(skipped) skipped at \(Money(nanos: price))"
        guard reserved == 0, spent >= accepted * price else { throw broken(described) }
        if !budgetStopped, failed == 0, !suppressed, !cancelled {
            guard spent == Int64(sent) * price else { throw broken(described) }
        } else {
            let open = (counts["retry"] ?? 0) + (counts["pending"] ?? 0)
            guard spent <= Int64(sent + failed + skipped + open + inDoubt) * price else { throw broken(described) }
        }
        // A row in flight when its sender died is in doubt: it may have reached the provider.
        // Suppressed before the next sender resent it, it is skipped, never sent again: the
        // provider has it, the journal cannot count it sent (its first attempt stays spent).
        let suppressedAfterSending = Set(outbox).intersection(suppressedNumbers).count
        // Stopped by its budget, a campaign keeps rows waiting to be sent again after a crash:
        // their first attempt may have been delivered (counted spent), and they wait for the
        // budget like the rest (seed 60280). Sent again, the provider dedupes them.
        let waitingAfterCrash = budgetStopped ? counts["retry"] ?? 0 : 0
        if !importedReceipts, outbox.count < sent || outbox.count > sent + suppressedAfterSending + inDoubt + waitingAfterCrash {
            throw broken("the provider accepted \(outbox.count), the journal counts \(sent) sent")
        }
    }

    /// One message a provider accepted: its outbox, number, text and sender identity.
    struct OutboxEntry: Decodable {
        var outbox = ""
        let destination: String
        let body: String?
        let from: String?

        enum CodingKeys: String, CodingKey { case destination, body, from }
    }

    /// Every message the providers accepted, across both ledgers when the campaign has two.
    private func outboxEntries() throws -> [OutboxEntry] {
        outboxes.flatMap { name -> [OutboxEntry] in
            guard let data = FileManager.default.contents(atPath: fixture.path(name)) else { return [] }
            return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
                var entry = try? JSONDecoder().decode(OutboxEntry.self, from: Data(line))
                entry?.outbox = name
                return entry
            }
        }
    }

    /// What went out in a content journey is exactly what the rows ask for: never a row
    /// `where:` leaves out, each in its language with its conditional text, smart-encoded; in a
    /// pooled journey, every message of the first provider from one of the pool's identities.
    private func checkContent(_ entries: [OutboxEntry]) throws {
        let phones = journey.content ? Dictionary(uniqueKeysWithValues: CLIFixture.rows(journey.recipients).enumerated().map { ($1.phone, $0) }) : [:]
        for entry in entries {
            if journey.content {
                guard let index = phones[entry.destination] else { throw broken("the provider got \(entry.destination), not a recipient") }
                guard Journey.contentRow(index).kept else {
                    throw broken("the provider got row \(index + 2) (CSV line), which where: leaves out")
                }
                let expected = Journey.expectedText(index)
                guard entry.body == expected else {
                    throw broken("CSV line \(index + 2) arrived as \((entry.body ?? "nothing").debugDescription), expected \(expected.debugDescription)")
                }
            }
            if journey.pooled, entry.outbox == "outbox.jsonl", !Journey.poolIdentities.contains(entry.from ?? "") {
                throw broken("a message went from \(entry.from ?? "no identity"), not one of the pool's \(Journey.poolIdentities)")
            }
        }
    }

    /// At the end: `status` counts the rows `where:` left out (reason `filtered`), and its
    /// languages (en, es) and senders add up to what was sent.
    private func checkContentTotals(_ object: [String: Any], sent: Int) throws {
        if journey.content {
            let filtered = (0..<journey.recipients).filter { !Journey.contentRow($0).kept }.count
            let reasons = object["reasons"] as? [String: Int] ?? [:]
            guard reasons["filtered"] == filtered else { throw broken("status counts \(reasons["filtered"] ?? 0) rows filtered, where: leaves out \(filtered)") }
            let languages = object["languages"] as? [[String: Any]] ?? []
            let codes = languages.compactMap { $0["language"] as? String }
            guard codes.sorted() == ["en", "es"] else { throw broken("status has languages \(codes), expected en and es") }
            let inLanguages = languages.reduce(0) { $0 + ($1["sent"] as? Int ?? 0) }
            guard inLanguages == sent else { throw broken("status counts \(inLanguages) sent by language, \(sent) in all") }
        }
        if journey.pooled, !journey.routed {
            let senders = object["senders"] as? [[String: Any]] ?? []
            let ids = senders.compactMap { $0["id"] as? String }
            guard ids.sorted() == Journey.poolIdentities else { throw broken("status has senders \(ids), expected \(Journey.poolIdentities)") }
            let bySender = senders.reduce(0) { $0 + ($1["sent"] as? Int ?? 0) }
            guard bySender == sent else { throw broken("status counts \(bySender) sent by sender identity, \(sent) in all") }
        }
    }

    private func broken(_ rule: String) -> Broken {
        Broken(rule: rule, step: step, journey: journey, log: log)
    }
}

struct JourneySkipped: Error {}
