import Foundation
import ArgumentParser
import HeraldEngine
import HeraldJournal

/// Flags shared by `run` and `resume`.
struct SendOptions: ParsableArguments {
    @Flag(help: "Send the campaign's messages through the built-in simulator, whatever its provider.")
    var simulate = false

    @Option(help: "Stop after sending this many messages in this run.")
    var limit: Int?

    @Flag(help: "Send rows left in doubt by a crash again (they may be delivered twice); rows a receipt answered are sent already.")
    var resendInDoubt = false

    @Option(help: ArgumentHelp(
        "With --resend-in-doubt: leave rows attempted less than this long ago (their receipt may still come). 15m, 90s, 1h, 0.",
        valueName: "duration"))
    var receiptGrace = "15m"

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard Self.seconds(receiptGrace) != nil else {
            throw ValidationError("--receipt-grace: \(receiptGrace.quoted) is not a duration such as 15m, 90s or 1h")
        }
    }

    /// `90s`, `15m`, `2h`, or plain seconds.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        if let unit = text.last, let scale = units[unit], let value = Int64(text.dropLast()), value >= 0 { return value * scale }
        return Int64(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// These flags as engine options.
    var runOptions: RunOptions {
        var options = RunOptions()
        options.simulate = simulate
        options.limit = limit
        options.resendInDoubt = resendInDoubt
        options.receiptGrace = .seconds(Self.seconds(receiptGrace) ?? 900)
        return options
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Send a campaign; run again (or resume) to continue after a stop.")

    @Argument(help: "Campaign file (YAML).")
    var file: String

    @Flag(help: "Refuse to send anything if any recipient row has a problem.")
    var strict = false

    @Flag(help: "Have the provider validate every message without delivering it; reports problems and the would-be cost.")
    var dryRun = false

    @Option(help: ArgumentHelp(
        "With --dry-run: the provider validates this many rows, chosen to cover each country, provider, language and encoding, "
            + "sent at once (no rate, no windows); every row is checked offline.", valueName: "N"))
    var sample: Int?

    @Flag(name: [.customShort("y"), .long],
          help: "Send without the check a terminal shows first (rows, cost, limits, windows, sample messages, then a question).")
    var yes = false

    @OptionGroup var send: SendOptions
    @OptionGroup var journal: JournalOptions

    func validate() throws {
        if let sample {
            guard dryRun else { throw ValidationError("--sample goes with --dry-run (a real run sends every row)") }
            guard (1...1000).contains(sample) else { throw ValidationError("--sample must be 1 to 1,000 rows") }
        }
    }

    func run() async throws {
        var options = send.runOptions
        options.strict = strict
        options.dryRun = dryRun
        if let sample {
            return try await Sending.sampleDryRun(campaignFile: file, journalPath: journal.path, options: options, rows: sample)
        }
        try await Sending.perform(campaignFile: file, journalPath: journal.path, options: options, confirm: !yes)
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a campaign already in the journal, by id or campaign file.")

    @Argument(help: "Campaign id, or its campaign file.")
    var campaign: String

    @OptionGroup var send: SendOptions
    @OptionGroup var journal: JournalOptions

    func run() async throws {
        var options = send.runOptions
        options.mustExist = true
        let file: String
        do {
            file = try CampaignLocator.file(for: campaign, journalPath: journal.path)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
        try await Sending.perform(campaignFile: file, journalPath: journal.path, options: options)
    }
}

/// What `run` and `resume` share: load, trap signals, run, print, exit.
enum Sending {
    /// `run --dry-run --sample N`: every row checked offline, then a DryRun of the sampled rows
    /// at once, in a journal of its own (the campaign's journal is read, never written).
    static func sampleDryRun(campaignFile: String, journalPath: String, options: RunOptions, rows: Int) async throws {
        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        defer { trap.cancel() }
        do {
            let plan = try CampaignPlan.load(campaignPath: campaignFile)
            let report = try plan.validate(listLimit: 20, journalPath: journalPath)
            for problem in report.problems { print(problem) }
            print(Output.validationLine(report))
            let chosen = try plan.preview(lines: nil, sample: rows * 2, journalPath: journalPath).rows
                .filter { $0.status == "send" }.prefix(rows).map(\.line)
            guard !chosen.isEmpty else {
                Terminal.error("no row to send, so none for the provider to validate")
                throw ExitCode(ExitStatus.invalidInput.rawValue)
            }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-sample-\(UUID().uuidString)")
            try PrivateFiles.makeFolder(folder.path)
            defer { try? FileManager.default.removeItem(at: folder) }
            let sampled = try SampledDryRun(plan, lines: chosen, folder: folder)
            var runner = CampaignRunner(plan: sampled.plan, journalPath: folder.appendingPathComponent("journal.sqlite").path,
                                        options: options, stop: stop)
            runner.onProgress = { Terminal.progress($0) }
            let summary = try await runner.run()
            Terminal.clearProgress()
            let counts = summary.counts
            print("dry run of \(Terminal.count(chosen.count, "sampled row")) (lines \(chosen.map(String.init).joined(separator: ", "))), "
                + "sent at once, nothing delivered: \(Terminal.format(counts[.sent])) accepted by the provider, "
                + "\(Terminal.format(counts[.failed])) refused, \(Terminal.format(counts[.inDoubt])) unanswered; would-be cost $\(summary.spent)")
            for row in summary.failedRows {
                let line = sampled.originalLines[row.row] ?? row.row
                print("  line \(line): \(row.reason?.rawValue ?? "failed"): \((row.detail ?? "").printable)")
            }
            let status = ExitStatus(for: summary)
            if status != .success { throw ExitCode(status.rawValue) }
            if counts[.failed] > 0 || report.problemCount > 0 { throw ExitCode(ExitStatus.invalidInput.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }

    /// `confirm`: on a terminal, show the check before sending and ask (`herald run` without `--yes`).
    static func perform(campaignFile: String, journalPath: String, options: RunOptions, confirm: Bool = false) async throws {
        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        defer { trap.cancel() }
        do {
            let plan = try CampaignPlan.load(campaignPath: campaignFile)
            if Confirmation.needed(plan, options, yes: !confirm) {
                guard try Confirmation.ask(plan, journalPath: journalPath) else {
                    Terminal.note("nothing sent (answered no; --yes sends without asking)")
                    throw ExitCode(ExitStatus.controlled.rawValue)
                }
            }
            var runner = CampaignRunner(plan: plan, journalPath: journalPath, options: options, stop: stop)
            runner.onProgress = { Terminal.progress($0) }
            let summary = try await runner.run()
            Terminal.clearProgress()
            print(Output.summary(summary))
            let status = ExitStatus(for: summary)
            if status != .success { throw ExitCode(status.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch let failed as ValidationFailed {
            for problem in failed.report.problems { print(problem) }
            print(Output.validationLine(failed.report))
            Terminal.error("--strict: \(Terminal.count(failed.report.problemCount, "row has", "rows have")) problems; nothing was sent")
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
