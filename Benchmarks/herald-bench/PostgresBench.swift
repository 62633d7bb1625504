import Foundation
import HeraldEngine
import HeraldPostgres
import HeraldJournal
import HeraldSQLite
import PostgresNIO

// The PostgreSQL journal, on a database given by URL (each run makes a campaign of its own id):
//   herald-bench pg-e2e N URL      one process: COPY import, then send (simulator, zero latency)
//   herald-bench pg-pair N URL     two processes sending one campaign together (one imports, the other waits, joins)

/// A campaign of `rows` with an id of its own, so that runs on one database never meet.
func makePostgresCampaign(rows: Int) throws -> (folder: URL, campaign: String) {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-pg-\(getpid())")
    let campaign = try makeCampaign(in: folder, rows: rows)
    let text = try String(contentsOfFile: campaign, encoding: .utf8)
        .replacingOccurrences(of: "id: bench\n", with: "id: bench-\(getpid())-\(Int(Date().timeIntervalSince1970))\n")
    try text.write(toFile: campaign, atomically: true, encoding: .utf8)
    return (folder, campaign)
}

func postgresEndToEnd(rows: Int, url: String) async throws {
    let (folder, campaign) = try makePostgresCampaign(rows: rows)
    defer { try? FileManager.default.removeItem(at: folder) }
    let summary = try await sendOnPostgres(campaign: campaign, url: url)
    precondition(summary.counts[.sent] == rows, "expected \(rows) sent, got \(summary.counts[.sent])")
    let sendSeconds = summary.elapsedSeconds - summary.importSeconds
    emit(["figure": "pg_copy_import_rows_per_s", "rows": rows, "value": Int(Double(rows) / summary.importSeconds),
          "seconds": summary.importSeconds, "target": ">= 300000"])
    emit(["figure": "pg_send_settle_msgs_per_s", "rows": rows, "value": Int(Double(rows) / sendSeconds), "seconds": sendSeconds])
    emit(["figure": "pg_end_to_end_msgs_per_s", "rows": rows, "value": Int(Double(rows) / summary.elapsedSeconds),
          "seconds": summary.elapsedSeconds, "target": ">= 40000"])
    emitStepLatency(label: "pg_claim")
    emit(["figure": "pg_peak_rss_mb", "rows": rows, "value": peakRSSMegabytes(), "target": "<= 64"])
}

func sendOnPostgres(campaign: String, url: String) async throws -> RunSummary {
    let plan = try CampaignPlan.load(campaignPath: campaign)
    return try await CampaignRunner(plan: plan, journalPath: url, options: RunOptions(), stop: StopSignal()).run()
}

func emitStepLatency(label: String) {
    let timings = StepTimings.shared
    emit(["figure": label + "_latency_ms", "steps": timings.count,
          "p50": ((timings.quantile(0.5) ?? 0) * 1e6).rounded() / 1e3, "p99": ((timings.quantile(0.99) ?? 0) * 1e6).rounded() / 1e3])
}

/// Two child processes send one campaign; the figure is all rows over the wall time of both.
func postgresPair(rows: Int, url: String) async throws {
    let (folder, campaign) = try makePostgresCampaign(rows: rows)
    defer { try? FileManager.default.removeItem(at: folder) }
    let start = ContinuousClock.now
    var children: [(Process, Pipe)] = []
    for _ in 0..<2 {
        let child = Process()
        let pipe = Pipe()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["pg-join", campaign, url]
        child.standardOutput = pipe
        try child.run()
        children.append((child, pipe))
    }
    var sent = 0
    var imported = 0.0
    for (index, (child, pipe)) in children.enumerated() {
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        precondition(child.terminationStatus == 0, "sender \(index) failed")
        for line in output.split(separator: "\n") {
            guard let fields = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if fields["figure"] as? String == "pg_join_sent" {
                sent += fields["value"] as? Int ?? 0
                imported = max(imported, fields["import_seconds"] as? Double ?? 0)
            }
            var tagged = fields
            tagged["sender"] = index
            emit(tagged)
        }
    }
    let elapsed = seconds(start.duration(to: .now))
    precondition(sent == rows, "expected \(rows) sent by the two, got \(sent)")
    emit(["figure": "pg_two_senders_end_to_end_msgs_per_s", "rows": rows, "value": Int(Double(rows) / elapsed), "seconds": elapsed,
          "import_seconds": imported, "target": ">= one sender's"])
}

/// One of `pg-pair`'s senders.
func postgresJoin(campaign: String, url: String) async throws {
    let summary = try await sendOnPostgres(campaign: campaign, url: url)
    emit(["figure": "pg_join_sent", "value": summary.sentThisRun, "import_seconds": summary.importSeconds,
          "seconds": summary.elapsedSeconds])
    emitStepLatency(label: "pg_claim")
    emit(["figure": "pg_peak_rss_mb", "value": peakRSSMegabytes(), "target": "<= 64"])
}

/// `pg-ping`'s comparison: the same round trip through postgres-nio's `PostgresClient`
/// (pooled, async), as a task and from a thread that waits for it (how a synchronous
/// journal would call it). Herald's journal keeps one connection driven from its thread.
func pgClientPing(count: Int, url: String) async throws {
    let target = try PostgresTarget(url: url)
    var configuration = PostgresClient.Configuration(
        host: target.host, port: target.port, username: target.user, password: target.password, database: target.database,
        tls: target.tls == .disable ? .disable : .prefer(.makeClientConfiguration()))
    configuration.options.minimumConnections = 1
    let client = PostgresClient(configuration: configuration)
    let runner = Task { await client.run() }
    defer { runner.cancel() }
    _ = try await client.query("SELECT 1").collect()
    let start = ContinuousClock.now
    for _ in 0..<count { _ = try await client.query("SELECT 1").collect() }
    emit(["figure": "pg_client_round_trip_us", "value": start.duration(to: .now).benchSeconds / Double(count) * 1e6, "count": count])
    let fromThread = await withCheckedContinuation { (done: CheckedContinuation<Double, Never>) in
        Thread {
            let start = ContinuousClock.now
            for _ in 0..<count {
                let answered = DispatchSemaphore(value: 0)
                Task { _ = try? await client.query("SELECT 1").collect(); answered.signal() }
                answered.wait()
            }
            done.resume(returning: start.duration(to: .now).benchSeconds / Double(count) * 1e6)
        }.start()
    }
    emit(["figure": "pg_client_from_thread_round_trip_us", "value": fromThread, "count": count])
}
