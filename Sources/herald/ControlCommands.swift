import ArgumentParser
import Foundation
import Synchronization
import HeraldEngine
import HeraldJournal

/// `herald pause ID` and `herald cancel ID`: a request the sending process (a `run`
/// or a worker) acts on within a second; recorded for later if none is sending.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a campaign: its sender stops cleanly within a second; `herald resume ID` continues it.")

    @Argument(help: "Campaign id.")
    var campaign: String

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        if try Control.request(.pause, campaign: campaign, journalPath: journal.path) {
            print("\(campaign): pause requested")
        }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a campaign for good: rows not yet sent are skipped (reason cancelled).")

    @Argument(help: "Campaign id.")
    var campaign: String

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        if try Control.request(.cancel, campaign: campaign, journalPath: journal.path) {
            print("\(campaign): cancelled; rows not yet sent were skipped (any that may have been delivered are left in doubt)")
        }
    }
}

enum Control {
    /// False (with a note) when the campaign has already ended.
    static func request(_ control: CampaignControl, campaign: String, journalPath: String) throws -> Bool {
        do {
            let (journal, record) = try CampaignLocator.campaign(campaign, journalPath: journalPath)
            if record.state == .completed || record.state == .cancelled {
                print("\(campaign): already \(record.state.rawValue); nothing to \(control.rawValue)")
                return false
            }
            _ = try journal.request(control, campaign: record.id, mode: record.mode)
            return true
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Check and import a campaign for `herald worker` to send at its time; sends nothing now.")

    @Argument(help: "Campaign file (YAML).")
    var file: String

    @Option(help: "When to start (ISO 8601, e.g. 2026-12-01T09:00:00Z). Default: schedule.start_at, else now.")
    var at: String?

    @OptionGroup var journal: JournalOptions

    func run() async throws {
        do {
            let plan = try CampaignPlan.load(campaignPath: file)
            var start = plan.spec.schedule.startAt ?? Date()
            if let at {
                guard let date = ISO8601DateFormatter().date(from: at) else {
                    throw ValidationError("--at: \"\(at)\" is not an ISO 8601 time such as 2026-12-01T09:00:00Z")
                }
                start = date
            }
            var options = RunOptions()
            options.scheduleAt = Int64(start.timeIntervalSince1970 * 1000)
            let summary = try await CampaignRunner(plan: plan, journalPath: journal.path, options: options,
                                                   stop: StopSignal()).run()
            print("\(summary.campaign): scheduled for \(ISO8601DateFormatter().string(from: start)); "
                + "\(Terminal.count(summary.counts[.pending], "row")) to send, \(Terminal.format(summary.counts[.skipped])) skipped; "
                + "`herald worker` sends it")
        } catch let error as ValidationError {
            throw error
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run until SIGTERM: start scheduled campaigns when due and resume interrupted ones.",
        discussion: "SIGINT or SIGTERM stops every campaign cleanly and exits 0 (suitable for systemd); a second signal exits at once.")

    @Option(help: "Seconds between looks at the journal.")
    var poll: Double = 1

    @Option(help: ArgumentHelp(
        "Also serve delivery receipts on this address (as `herald receipts serve --listen`).", valueName: "host:port"))
    var receiptsListen: String?

    @Option(help: ArgumentHelp(
        "Also serve the dashboard and the receipts on this address (as `herald serve --listen`).", valueName: "host:port"))
    var http: String?

    /// The dashboard's token (with --http).
    @OptionGroup var token: TokenOptions

    @OptionGroup var receipts: ReceiptsCommand.ServeOptions
    @OptionGroup var journal: JournalOptions

    func validate() throws {
        guard poll >= 0.05, poll <= 3600 else { throw ValidationError("--poll must be between 0.05 and 3600 seconds") }
        guard receiptsListen == nil || http == nil else { throw ValidationError("--http serves the receipts too: give one of the two") }
    }

    func run() async throws {
        // Checked before anything starts: a worker never runs on without the server it was asked for.
        let token = try http.flatMap { try self.token.token(listen: $0) }
        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        defer { trap.cancel() }
        var worker = Worker(journalPath: journal.path, stop: stop)
        worker.poll = .milliseconds(Int(poll * 1000))
        worker.onEvent = { Terminal.note($0) }
        Terminal.note("worker started on \(journal.shown)")
        let dashboard = http != nil
        // A server that fails on its own (its port taken, its certificate unreadable) stops the
        // worker as a signal would (campaigns stop cleanly, resumable), and its exit code is the worker's.
        let failed = ServerFailure()
        let server = (http ?? receiptsListen).map { [receipts, journal] listen in
            Task {
                do {
                    try await Receipts.perform {
                        try await receipts.serve(listen: listen, journal: journal.path, dashboard: dashboard, authToken: token)
                    }
                } catch {
                    if stop.requested == nil {
                        failed.happened.store(true, ordering: .relaxed)
                        stop.request(.signal(SIGTERM))
                    }
                    throw error
                }
            }
        }
        do {
            try await worker.run()
        } catch {
            server?.cancel()
            throw error
        }
        server?.cancel()
        let ended = await server?.result
        if failed.happened.load(ordering: .relaxed), case .failure(let error)? = ended { throw error }
        Terminal.note("worker stopped")
    }
}

/// Whether the worker's server failed on its own (not stopped by the worker's shutdown).
private final class ServerFailure: Sendable {
    let happened = Atomic<Bool>(false)
}
