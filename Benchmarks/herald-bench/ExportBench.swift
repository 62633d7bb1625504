import Foundation
import HeraldEngine

#if canImport(Glibc)
import Glibc
#endif

/// `herald serve` while `readers` clients download a finished campaign's recipient CSV and
/// read it slowly (1 KiB every 100 ms, for `seconds`), and one client asks for
/// `/api/campaigns` every 100 ms: the server's peak RSS and that client's answer times.
func slowExportBench(rows: Int, readers: Int, seconds: Double = 20) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let campaign = try makeCampaign(in: folder, rows: rows)
    let journal = folder.appendingPathComponent("journal.sqlite").path
    let summary = try await CampaignRunner(plan: try CampaignPlan.load(campaignPath: campaign), journalPath: journal,
                                           options: RunOptions(), stop: StopSignal()).run()
    precondition(summary.counts[.sent] == rows)
    let (server, port) = try startReceiptServer(journal: journal, command: ["serve"])
    defer { server.terminate() }
    let stop = Flag()
    let started = Counter()
    var threads: [Thread] = []
    for _ in 0..<readers {
        let thread = Thread {
            let socket = connectLoopback(port: port)
            guard socket >= 0 else { return }
            defer { close(socket) }
            let request = "GET /campaigns/bench/recipients.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            _ = request.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 1024)
            var first = true
            while !stop.raised.load(ordering: .relaxed) {
                if recv(socket, &buffer, buffer.count, 0) <= 0 { break }
                if first { started.value.add(1, ordering: .relaxed); first = false }
                usleep(100_000)
            }
        }
        thread.stackSize = 256 * 1024
        thread.start()
        threads.append(thread)
    }
    // What the other client asks for: the dashboard's JSON (a journal read), or another path.
    let probe = ProcessInfo.processInfo.environment["HERALD_BENCH_PROBE"] ?? "/api/campaigns"
    var latencies: [Double] = []
    var slow: [String] = []
    let begun = ContinuousClock.now
    var peak = 0.0
    var anonymous = 0.0
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        let asked = ContinuousClock.now
        let socket = connectLoopback(port: port)
        let connected = asked.duration(to: .now)
        let request = "GET \(probe) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var answer: [UInt8] = []
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        close(socket)
        precondition(String(decoding: answer.prefix(12), as: UTF8.self).hasSuffix("200"), "the normal client got an answer")
        let took = asked.duration(to: .now)
        let milliseconds = Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000
        latencies.append(milliseconds)
        if milliseconds > 50 {
            let at = begun.duration(to: asked)
            slow.append("\(Int(milliseconds)) ms at \(at.components.seconds).\(at.components.attoseconds / 100_000_000_000_000_000) s"
                + " (connecting \(connected.components.seconds * 1000 + connected.components.attoseconds / 1_000_000_000_000_000) ms)")
        }
        peak = max(peak, residentMegabytes(pid: server.processIdentifier))
        anonymous = max(anonymous, residentMegabytes(pid: server.processIdentifier, field: "RssAnon:"))
        usleep(100_000)
    }
    stop.raised.store(true, ordering: .relaxed)
    let hwm = peakRSSMegabytes(pid: server.processIdentifier)
    latencies.sort()
    emit(["figure": "slow_export_server_peak_rss_mb", "rows": rows, "readers": readers,
          "readers_started": started.value.load(ordering: .relaxed), "value": (max(peak, hwm) * 10).rounded() / 10,
          "anonymous_mb": (anonymous * 10).rounded() / 10,
          "target": "< 150"])
    emit(["figure": "slow_export_other_client_ms", "rows": rows, "readers": readers,
          "p50": (latencies[latencies.count / 2] * 10).rounded() / 10,
          "p90": (latencies[latencies.count * 9 / 10] * 10).rounded() / 10, "over_50ms": slow,
          "value": ((latencies.last ?? -1) * 10).rounded() / 10, "target": "max < 50"])
}

func connectLoopback(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return -1
    }
    return fd
}

func residentMegabytes(pid: Int32, field: String = "VmRSS:") -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
        return (line.split(separator: " ").compactMap { Double($0) }.first ?? -1) / 1024
    }
    return -1
}
