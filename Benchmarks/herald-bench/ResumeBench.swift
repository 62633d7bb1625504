import Foundation
import HeraldEngine
import HeraldProviders
import Synchronization

/// Wraps a provider and notes when the first message reaches it.
final class FirstSendProbe: MessageProvider {
    let inner: any MessageProvider
    let first = Mutex<ContinuousClock.Instant?>(nil)
    var name: String { inner.name }
    var capabilities: ProviderCapabilities { inner.capabilities }

    init(_ inner: any MessageProvider) { self.inner = inner }

    func send(_ message: OutboundMessage) async -> SendOutcome {
        first.withLock { if $0 == nil { $0 = .now } }
        return await inner.send(message)
    }

    func shutdown() async { await inner.shutdown() }
}

/// `herald-bench resume N`: imports N rows, sends half, stops; then times a resume
/// until its first send and `herald status`, beside sqlite3's own `.import` of the CSV.
func resumeBench(rows: Int) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let campaign = try makeCampaign(in: folder, rows: rows)
    let csv = folder.appendingPathComponent("recipients.csv").path
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [folder.appendingPathComponent("plain.sqlite").path, ".import --csv \(csv) recipients"]
        let start = ContinuousClock.now
        try sqlite.run()
        sqlite.waitUntilExit()
        let seconds = start.duration(to: .now).benchSeconds
        emit(["figure": "sqlite3_import_rows_per_s", "rows": rows, "value": Int(Double(rows) / seconds), "seconds": seconds])
    }
    let journal = folder.appendingPathComponent("journal.sqlite").path
    var half = RunOptions()
    half.limit = rows / 2
    let first = try await CampaignRunner(plan: try CampaignPlan.load(campaignPath: campaign), journalPath: journal,
                                         options: half, stop: StopSignal()).run()
    precondition(first.counts[.sent] == rows / 2)
    emit(["figure": "import_rows_per_s", "rows": rows, "value": Int(Double(rows) / first.importSeconds),
          "seconds": first.importSeconds, "target": ">= 600000"])

    // What `herald resume ID --limit 1` does, timed from the start to the first send.
    var one = RunOptions()
    one.limit = 1
    one.mustExist = true
    let start = ContinuousClock.now
    let plan = try CampaignPlan.load(campaignPath: campaign)
    var runner = CampaignRunner(plan: plan, journalPath: journal, options: one, stop: StopSignal())
    let probe = FirstSendProbe(try SimulatorProvider(configuration: SimulatorConfiguration()))
    runner.provider = probe
    let resumed = try await runner.run()
    let total = start.duration(to: .now).benchSeconds
    let firstSend = probe.first.withLock { $0 }.map { start.duration(to: $0).benchSeconds } ?? -1
    precondition(resumed.sentThisRun == 1)
    emit(["figure": "resume_to_first_send_s", "rows": rows, "value": firstSend, "target": "<= 1 at 10M rows"])
    emit(["figure": "resume_limit_1_total_s", "rows": rows, "value": total])

    let statusStart = ContinuousClock.now
    let status = try CampaignStatus.load(journalPath: journal, id: "bench")
    let statusSeconds = statusStart.duration(to: .now).benchSeconds
    precondition(status.first?.counts["sent"] == rows / 2 + 1)
    emit(["figure": "status_s", "rows": rows, "value": statusSeconds, "target": "<= 0.2 at 10M rows"])
    emit(["figure": "peak_rss_mb", "rows": rows, "value": peakRSSMegabytes(), "target": "<= 64"])
}

extension Duration {
    var benchSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
