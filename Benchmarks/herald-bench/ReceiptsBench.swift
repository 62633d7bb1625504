import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldReport
import HeraldJournal
import HeraldSQLite
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// The `herald` binary built beside this one.
var heraldBinary: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("herald").path
}

/// An RCS campaign of `rows` rows sent through the Agile adapter to a loopback stub, so
/// the journal holds Agile message ids as the server will look them up. Returns the
/// journal and the ids.
func sentAgileCampaign(folder: URL, rows: Int, journal url: String? = nil) async throws -> (journal: String, ids: [String]) {
    let stub = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap {
                channel.pipeline.addHandler(SinkHandler(body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    _ = try makeCampaign(in: folder, rows: rows, rcs: true)
    let campaign = folder.appendingPathComponent("agile.yaml")
    try """
    id: agile
    template: template.yaml
    recipients: recipients.csv
    provider: {kind: agile, endpoint: "http://127.0.0.1:\(stub.localAddress!.port!)", agent_id: 7, fallback_sender: Herald}
    rate: {max_in_flight: 64}
    """.write(to: campaign, atomically: true, encoding: .utf8)
    setenv("AGILE_API_KEY", "bench-key-not-a-secret", 1)
    let journal = url ?? folder.appendingPathComponent("journal.sqlite").path
    let plan = try CampaignPlan.load(campaignPath: campaign.path)
    let summary = try await CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal()).run()
    precondition(summary.counts[.sent] == rows, "every row sent: \(summary.counts[.sent])")
    try await stub.close()
    return (journal, (0..<rows).map { AgileProvider.messageID(for: "agile/\($0 + 2)") })
}

/// `herald receipts serve` (release binary) on the journal; returns the process and port.
func startReceiptServer(journal: String, command: [String] = ["receipts", "serve"]) throws -> (Process, Int) {
    let server = Process()
    server.executableURL = URL(fileURLWithPath: heraldBinary)
    server.arguments = command + ["--listen", "127.0.0.1:0", "--journal", journal]
    let pipe = Pipe()
    server.standardOutput = pipe
    try server.run()
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        precondition(!chunk.isEmpty, "receipts server ended before listening")
        line += chunk
    }
    let text = String(decoding: line, as: UTF8.self)
    let port = Int(text.split(separator: ":").last!.trimmingCharacters(in: .whitespacesAndNewlines))!
    return (server, port)
}

/// CPU seconds (user and system) that process `pid` has used so far, with those of its
/// children it has waited for.
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    // After the command's name: state, then fields 4...; utime, stime, cutime, cstime are 14-17.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 14 else { return 0 }
    let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU seconds used so far by every PostgreSQL process on this machine (the server the
/// bench's journal is on shares its cores): live backends and, through the postmaster,
/// those that ended.
func postgresCPUSeconds() -> Double {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
    var total = 0.0
    for entry in entries {
        guard let pid = Int32(entry),
              let name = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),
              name.hasPrefix("postgres") else { continue }
        total += cpuSeconds(pid: pid)
    }
    return total
}

func peakRSSMegabytes(pid: Int32) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (line.split(separator: " ").compactMap { Double($0) }.first ?? -1) / 1024
    }
    return -1
}

/// Keep-alive HTTP/1.1 clients, one socket each, posting `bodies` (shared out round
/// robin); `perSecond` paces the total (nil: as fast as the server answers).
final class Flag: Sendable {
    let raised = Atomic<Bool>(false)
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

func postAll(port: Int, path: String, bodies: [String], connections: Int, perSecond: Double? = nil,
             stop: Flag? = nil, progress: Counter? = nil) -> (ok: Int, failed: Int, seconds: Double) {
    let ok = Counter(), failed = Counter()
    let start = ContinuousClock.now
    // One thread per connection (concurrentPerform would run only one per core).
    let group = DispatchGroup()
    for client in 0..<connections {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            post(client)
        }
        thread.stackSize = 256 << 10
        thread.start()
    }
    @Sendable func post(_ client: Int) {
        let fd = connectLoopback(port: port)
        precondition(fd >= 0, "connect failed")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var sent = 0
        var index = client
        while index < bodies.count {
            if stop?.raised.load(ordering: .relaxed) == true { break }
            if let perSecond {
                // This client's share of the pace.
                let due = Double(sent) / (perSecond / Double(connections))
                let now = seconds(start.duration(to: .now))
                if due > now { usleep(UInt32((due - now) * 1_000_000)) }
            }
            let body = bodies[index]
            let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let bytes = Array(request.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                precondition(written > 0, "send failed")
                offset += written
            }
            // The answers carry no body (204) or a short one: read until the head ends.
            var head: [UInt8] = []
            while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
                let count = recv(fd, &buffer, buffer.count, 0)
                precondition(count > 0, "connection closed")
                head += buffer[0..<count]
            }
            let status = String(decoding: head.prefix(12), as: UTF8.self)
            if status.hasSuffix("204") {
                ok.value.add(1, ordering: .relaxed)
            } else {
                // The first few refusals, as the server answered them (a bench that fails says why).
                if failed.value.add(1, ordering: .relaxed).newValue <= 3 { print("refused: \(String(decoding: head.prefix(300), as: UTF8.self))") }
            }
            progress?.value.add(1, ordering: .relaxed)
            sent += 1
            index += connections
        }
    }
    group.wait()
    return (ok.value.load(ordering: .relaxed), failed.value.load(ordering: .relaxed), seconds(start.duration(to: .now)))
}

/// What the receipts say of campaign `id` in `journal` (SQLite or PostgreSQL).
func deliverySummary(_ journal: String, campaign id: String) throws -> DeliverySummary {
    let store = try JournalOpener.receipts(journal, create: false)
    guard let record = try store.campaign(id: id, mode: .real) else { fatalError("no campaign \(id) in the journal") }
    return try store.deliverySummary(cid: record.cid)
}

/// Agile-shaped callbacks over HTTP: every row DELIVERY, 40% READ too, 64 connections.
/// `url`: a PostgreSQL journal (an empty database) instead of a SQLite file.
func receiptsHTTPBench(rows: Int, journal url: String? = nil) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let (journal, ids) = try await sentAgileCampaign(folder: folder, rows: rows, journal: url)
    let token = try JournalOpener.receipts(journal).receiptToken()
    var bodies: [String] = []
    for (index, id) in ids.enumerated() {
        bodies.append(#"{"channel":"RCS","eventType":"DELIVERY","messageId":"\#(id)","destination":"+12025550100","statusCode":3,"description":"delivered","eventDate":"2026-11-30T10:42:18Z"}"#)
        if index % 5 < 2 {
            bodies.append(#"{"channel":"RCS","eventType":"READ","messageId":"\#(id)","destination":"+12025550100","eventDate":"2026-11-30T10:43:05Z"}"#)
        }
    }
    let (server, port) = try startReceiptServer(journal: journal)
    let (postgresBefore, benchBefore, serverBefore) = (postgresCPUSeconds(), cpuSeconds(pid: getpid()), cpuSeconds(pid: server.processIdentifier))
    let result = postAll(port: port, path: "/receipts/agile/\(token)", bodies: bodies, connections: 64)
    let cpu = ["receiver": cpuSeconds(pid: server.processIdentifier) - serverBefore, "clients": cpuSeconds(pid: getpid()) - benchBefore,
               "postgres": postgresCPUSeconds() - postgresBefore]
    let rss = peakRSSMegabytes(pid: server.processIdentifier)
    server.terminate()
    server.waitUntilExit()
    precondition(result.failed == 0 && result.ok == bodies.count, "every callback acknowledged: \(result)")
    let summary = try deliverySummary(journal, campaign: "agile")
    precondition(summary[.delivered] == rows && summary.read == bodies.count - rows, "every event recorded and matched")
    emit(["figure": "receipts_http_events_per_s", "journal": url == nil ? "sqlite" : "postgres", "events": bodies.count, "connections": 64,
          "value": Int(Double(bodies.count) / result.seconds), "seconds": result.seconds,
          "cpu_us_per_event": cpu.mapValues { Int($0 / Double(bodies.count) * 1e6) },
          "target": url == nil ? ">= 20000" : ">= 15000"])
    emit(["figure": "receipts_server_peak_rss_mb", "events": bodies.count, "value": rss, "target": "<= 100"])
}

/// A simulator campaign of `rows` sent alone, then again while 20,000 callbacks a second
/// arrive on the same journal: how much the callbacks slow the sending. `rate` paces
/// the campaign (messages a second; nil: as fast as the machine goes).
func receiptsContentionBench(rows: Int, rate: Int?) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let (journal, ids) = try await sentAgileCampaign(folder: folder.appendingPathComponent("agile"), rows: 200_000)
    let token = try JournalOpener.receipts(journal).receiptToken()
    func simulatorRun(_ id: String) async throws -> Double {
        let campaign = try makeCampaign(in: folder.appendingPathComponent(id), rows: rows)
        var text = try String(contentsOfFile: campaign, encoding: .utf8).replacingOccurrences(of: "id: bench\ntemplate", with: "id: \(id)\ntemplate")
        if let rate {
            text = text.replacingOccurrences(of: "rate: {max_in_flight: 256}", with: "rate: {messages_per_second: \(rate), burst: \(rate / 10), max_in_flight: 256}")
        }
        try text.write(toFile: campaign, atomically: true, encoding: .utf8)
        let plan = try CampaignPlan.load(campaignPath: campaign)
        let summary = try await CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal()).run()
        precondition(summary.counts[.sent] + summary.counts[.skipped] == rows, "every row sent or skipped (a repeated number)")
        return summary.elapsedSeconds
    }
    let alone = try await simulatorRun("alone")
    // Each id three times over, so the load outlasts the run (repeats change nothing).
    let bodies = (ids + ids + ids).map { #"{"channel":"RCS","eventType":"DELIVERY","messageId":"\#($0)","statusCode":3,"eventDate":"2026-11-30T10:42:18Z"}"# }
    let (server, port) = try startReceiptServer(journal: journal)
    let stop = Flag()
    let progress = Counter()
    let load = Task.detached { postAll(port: port, path: "/receipts/agile/\(token)", bodies: bodies, connections: 64,
                                       perSecond: 20_000, stop: stop, progress: progress) }
    try await Task.sleep(for: .milliseconds(500))
    let before = progress.value.load(ordering: .relaxed)
    let loaded = try await simulatorRun("loaded")
    let during = progress.value.load(ordering: .relaxed) - before
    stop.raised.store(true, ordering: .relaxed)
    let delivered = await load.value
    server.terminate()
    server.waitUntilExit()
    precondition(delivered.failed == 0)
    emit(["figure": "send_slowdown_under_receipts_pct", "rows": rows, "alone_seconds": alone, "loaded_seconds": loaded,
          "campaign_rate": rate.map { String($0) } ?? "unpaced",
          "receipts_during_run": during, "receipts_per_s_during_run": Int(Double(during) / loaded),
          "value": ((loaded / alone) - 1) * 100, "target": "<= 10"])
}

/// `herald receipts import` (release binary) on AWS records for every row of a sent
/// campaign: a gzip Firehose object of concatenated records.
func receiptsImportBench(rows: Int, journal url: String? = nil) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    // HERALD_BENCH_KEEP=1 leaves the files (to profile the import by hand).
    let keep = ProcessInfo.processInfo.environment["HERALD_BENCH_KEEP"] == "1"
    defer { if !keep { try? FileManager.default.removeItem(at: folder) } else { print("kept \(folder.path)") } }
    let campaign = try makeCampaign(in: folder, rows: rows)
    let journal = url ?? folder.appendingPathComponent("journal.sqlite").path
    let plan = try CampaignPlan.load(campaignPath: campaign)
    _ = try await CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal()).run()
    // Bench campaigns on the simulator are "simulation"-free real runs: the id is "bench".
    let file = folder.appendingPathComponent("events")
    FileManager.default.createFile(atPath: file.path, contents: nil)
    let handle = try FileHandle(forWritingTo: file)
    var chunk = ""
    for index in 0..<rows {
        chunk += #"{"eventType":"TEXT_DELIVERED","eventVersion":"1.0","eventTimestamp":1764496800000,"isFinal":true,"originationPhoneNumber":"+12025550100","destinationPhoneNumber":"+12015550100","isInternationalSend":false,"messageId":"m-\#(index)","messageRequestTimestamp":1764496799000,"messageEncoding":"GSM","messageType":"TRANSACTIONAL","messageStatus":"DELIVERED","messageStatusDescription":"Message has been accepted by phone","context":{"campaign":"bench","herald_row":"\#(index + 2)"},"totalMessageParts":1,"totalMessagePrice":0.00581,"totalCarrierFee":0.00025}"#
        if chunk.utf8.count > 1 << 20 { handle.write(Data(chunk.utf8)); chunk = "" }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
    gzip.arguments = ["-n", "-1", file.path]
    try gzip.run()
    gzip.waitUntilExit()
    // The import in its own process, timed, with its peak RSS from wait4.
    let postgresBefore = postgresCPUSeconds()
    let (elapsed, rss, cpu) = timedHerald(["receipts", "import", file.path + ".gz", "--journal", journal])
    let postgres = postgresCPUSeconds() - postgresBefore
    let summary = try deliverySummary(journal, campaign: "bench")
    precondition(summary[.delivered] == rows, "every record matched: \(summary[.delivered])")
    emit(["figure": "receipts_import_records_per_s", "journal": url == nil ? "sqlite" : "postgres", "records": rows, "value": Int(Double(rows) / elapsed), "seconds": elapsed,
          "cpu_us_per_record": ["herald": Int(cpu / Double(rows) * 1e6), "postgres": Int(postgres / Double(rows) * 1e6)],
          "target": url == nil ? ">= 200000" : ">= 150000"])
    emit(["figure": "receipts_import_peak_rss_mb", "records": rows, "value": rss, "target": "<= 100"])
}

/// Runs the `herald` binary with `arguments`; returns the seconds it took, its peak RSS (MB)
/// and the CPU time it used (user and system).
func timedHerald(_ arguments: [String]) -> (seconds: Double, rssMB: Double, cpuSeconds: Double) {
    let start = ContinuousClock.now
    var pid: pid_t = 0
    let words: [String] = [heraldBinary] + arguments
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    precondition(posix_spawn(&pid, heraldBinary, nil, nil, argv, environ) == 0)
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    precondition(status == 0, "herald \(arguments.joined(separator: " ")) failed")
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return (seconds(start.duration(to: .now)), Double(usage.ru_maxrss) / 1024, cpu)
}

/// `herald report` of a finished campaign of `rows` rows sent through the simulator with
/// receipts (every message gets one): the HTML page and JSON, then the per-recipient CSV.
func reportBench(rows: Int, journal url: String? = nil) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let campaign = try makeCampaign(in: folder, rows: rows)
    // On PostgreSQL without simulated receipts: its receivers take about 3,000 events/s, so
    // a million would outlast the run by minutes (the report reads the same counters).
    if url == nil {
        let text = try String(contentsOfFile: campaign, encoding: .utf8).replacingOccurrences(
            of: "provider: {kind: simulator}",
            with: "provider: {kind: simulator, receipts: {delivered: 0.95, undelivered: 0.03, read: 0.3, latency_ms: \"1-20\"}}")
        try text.write(toFile: campaign, atomically: true, encoding: .utf8)
    }
    let journal = url ?? folder.appendingPathComponent("journal.sqlite").path
    let plan = try CampaignPlan.load(campaignPath: campaign)
    // The live report (what `/campaigns/ID` makes: the report's values and its page), timed
    // every quarter second while the campaign sends, then on the finished campaign.
    let finished = Mutex(false)
    let run = Task {
        defer { finished.withLock { $0 = true } }
        return try await CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal()).run()
    }
    var during: [Double] = []
    var reader: (any ReportingJournal)?
    while !finished.withLock({ $0 }) {
        try await Task.sleep(for: .milliseconds(250))
        if reader == nil, JournalOpener.exists(journal) { reader = try? JournalOpener.reporting(journal) }
        guard let reader, let record = try reader.campaign(id: "bench", mode: .real), try reader.counts(cid: record.cid)[.sent] > 0
        else { continue }
        during.append(try liveReportSeconds(reader, record))
    }
    let summary = try await run.value
    precondition(summary.counts[.sent] + summary.counts[.skipped] == rows, "every row sent or skipped (a repeated number)")
    let finishedReader = try JournalOpener.reporting(journal)
    let record = try finishedReader.campaign(id: "bench", mode: .real)!
    let after = try (0..<20).map { _ in try liveReportSeconds(finishedReader, record) }
    let store = url == nil ? "sqlite" : "postgres"
    emit(["figure": "report_live_ms_while_sending", "journal": store, "rows": rows, "samples": during.count,
          "p50": percentile(during, 0.5) * 1000, "max": (during.max() ?? 0) * 1000, "target": "<= 100 at 10M"])
    emit(["figure": "report_live_ms_finished", "journal": store, "rows": rows, "p50": percentile(after, 0.5) * 1000,
          "max": (after.max() ?? 0) * 1000, "target": "<= 100 at 10M"])
    let html = folder.appendingPathComponent("report.html").path
    let page = timedHerald(["report", "bench", "--html", html, "--journal", journal])
    let size = (try FileManager.default.attributesOfItem(atPath: html)[.size] as? Int) ?? -1
    let csv = timedHerald(["report", "bench", "--csv", folder.appendingPathComponent("r.csv").path, "--journal", journal])
    emit(["figure": "report_html_seconds", "journal": store, "rows": rows, "value": page.seconds, "html_bytes": size, "target": "<= 3 s at 1M"])
    emit(["figure": "report_html_peak_rss_mb", "rows": rows, "value": page.rssMB, "target": "<= 100"])
    emit(["figure": "report_csv_rows_per_s", "rows": rows, "value": Int(Double(rows) / csv.seconds), "seconds": csv.seconds,
          "target": ">= 500000"])
    emit(["figure": "report_csv_peak_rss_mb", "rows": rows, "value": csv.rssMB])
}

/// Seconds to make the live report of a campaign: its values from the journal and its page.
func liveReportSeconds(_ journal: any ReportingJournal, _ record: CampaignRecord) throws -> Double {
    let start = ContinuousClock.now
    let report = try CampaignReport.load(journal: journal, record: record, provider: record.fileFacts.providerName)
    _ = try ReportPage.html(report)
    return seconds(start.duration(to: .now))
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
}
