import Foundation
import HeraldCore
import HeraldEngine
import HeraldJournal
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// herald-bench pg-story N URL: the whole story of the PostgreSQL test at N rows, with the
// release binary. Three `herald worker`s send one scheduled Agile RCS campaign (campaign
// limit, max_in_flight 64) to a loopback provider that delivers each message id once and
// sends its callbacks (DELIVERY for every message, READ for a fifth) to `herald receipts
// serve` on the same journal, 500 events a request over 4 connections; one worker is
// SIGKILLed at a quarter and at half of the rows and started again.

/// The provider: answers every send as accepted; the first send of each id queues its callbacks.
final class StoryProvider: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    final class Log: Sendable {
        struct State {
            var seen: Set<String> = []
            var queue: [String] = []
            var lastFirstSend: ContinuousClock.Instant?
            var requests = 0
        }
        let state = Mutex(State())
    }

    let log: Log
    var body: [UInt8] = []
    init(log: Log) { self.log = log }

    static let answer = #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: body.removeAll(keepingCapacity: true)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if let id = Self.messageID(in: body) {
                log.state.withLock { state in
                    state.requests += 1
                    guard state.seen.insert(id).inserted else { return }
                    state.lastFirstSend = .now
                    state.queue.append(#"{"channel":"RCS","eventType":"DELIVERY","messageId":"\#(id)","statusCode":3,"eventDate":"2026-11-30T10:42:18Z"}"#)
                    if state.seen.count % 5 == 0 {
                        state.queue.append(#"{"channel":"RCS","eventType":"READ","messageId":"\#(id)","eventDate":"2026-11-30T10:43:05Z"}"#)
                    }
                }
            }
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Length", value: String(Self.answer.utf8.count))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: Self.answer)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// The `messageId` string of a send's JSON body.
    static func messageID(in body: [UInt8]) -> String? {
        let key = Array(#""messageId":""#.utf8)
        guard let start = body.firstRange(of: key)?.upperBound,
              let end = body[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: body[start..<end], as: UTF8.self)
    }
}

/// When the last batch of callbacks was committed.
final class LastSettled: Sendable {
    let at = Mutex<ContinuousClock.Instant?>(nil)
}

/// A child `herald` process whose peak RSS is read from wait4 when it ends.
final class HeraldChild {
    let pid: pid_t

    init(_ arguments: [String], environment: [String: String] = [:]) {
        var pid: pid_t = 0
        let words = [heraldBinary] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        precondition(posix_spawn(&pid, heraldBinary, &actions, nil, argv, envp) == 0)
        self.pid = pid
    }

    /// Sends `signal`, waits, returns the exit status and peak RSS (MB).
    func stop(_ signal: Int32) -> (status: Int32, rssMB: Double) {
        kill(pid, signal)
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        return (status, Double(usage.ru_maxrss) / 1024)
    }
}

func storyBench(rows: Int, url: String) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-story-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try makeCampaign(in: folder, rows: rows, rcs: true)
    let log = StoryProvider.Log()
    let stub = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(StoryProvider(log: log)) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let id = "story-\(getpid())"
    let campaign = folder.appendingPathComponent("story.yaml")
    try """
    id: \(id)
    template: template.yaml
    recipients: recipients.csv
    provider: {kind: agile, endpoint: "http://127.0.0.1:\(stub.localAddress!.port!)", agent_id: 7, fallback_sender: Herald}
    prices: prices.csv
    budget: {campaign_limit: \(rows)}
    rate: {max_in_flight: 64}
    """.write(to: campaign, atomically: true, encoding: .utf8)
    setenv("AGILE_API_KEY", "bench-key-not-a-secret", 1)
    let environment = ["HERALD_JOURNAL": url]
    let (receiver, port) = try startReceiptServer(journal: url)
    let token = try JournalOpener.receipts(url).receiptToken()
    // The provider's callbacks, in requests of up to 500 events over 4 connections.
    let lastSettled = LastSettled()
    let posted = Counter()
    let stop = Flag()
    let posters = (0..<4).map { _ in
        Task.detached {
            let fd = connectLoopback(port: port)
            precondition(fd >= 0)
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let batch = log.state.withLock { state -> [String] in
                    let batch = Array(state.queue.prefix(500))
                    state.queue.removeFirst(batch.count)
                    return batch
                }
                if batch.isEmpty {
                    if stop.raised.load(ordering: .relaxed) { return }
                    usleep(5_000)
                    continue
                }
                let body = "[" + batch.joined(separator: ",") + "]"
                let request = Array("POST /receipts/agile/\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
                var offset = 0
                while offset < request.count {
                    let written = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    precondition(written > 0)
                    offset += written
                }
                var head: [UInt8] = []
                while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
                    let count = recv(fd, &buffer, buffer.count, 0)
                    precondition(count > 0)
                    head += buffer[0..<count]
                }
                precondition(String(decoding: head.prefix(12), as: UTF8.self).hasSuffix("204"), "callbacks accepted")
                posted.value.add(batch.count, ordering: .relaxed)
                lastSettled.at.withLock { $0 = .now }
            }
        }
    }
    _ = timedHerald(["schedule", campaign.path, "--journal", url])
    let start = ContinuousClock.now
    var workers = (0..<3).map { _ in HeraldChild(["worker", "--poll", "0.2"], environment: environment) }
    var rss: [Double] = []
    var killed = 0
    for fraction in [4, 2] {
        while log.state.withLock({ $0.seen.count }) < rows / fraction { usleep(20_000) }
        rss.append(workers[2].stop(SIGKILL).rssMB)
        killed += 1
        workers[2] = HeraldChild(["worker", "--poll", "0.2"], environment: environment)
    }
    // Until the campaign is completed.
    let reader = try JournalOpener.open(url, create: false)
    while try reader.campaign(id: id, mode: .real)?.state != .completed { usleep(100_000) }
    let sendSeconds = seconds(start.duration(to: .now))
    stop.raised.store(true, ordering: .relaxed)
    for poster in posters { await poster.value }
    rss += workers.map { $0.stop(SIGTERM).rssMB }
    let receiverRSS = peakRSSMegabytes(pid: receiver.processIdentifier)
    receiver.terminate()
    receiver.waitUntilExit()
    try await stub.close()
    let (requests, lastSend, seen) = log.state.withLock { ($0.requests, $0.lastFirstSend, $0.seen.count) }
    let record = try reader.campaign(id: id, mode: .real)!
    let counts = try reader.counts(cid: record.cid)
    let summary = try deliverySummary(url, campaign: id)
    // Repeated numbers in the generated CSV are skipped as duplicates.
    precondition(counts[.sent] + counts[.skipped] == rows && seen == counts[.sent] && summary[.delivered] == seen
                 && summary.read == seen / 5 && counts[.inDoubt] == 0,
                 "every row sent once or skipped, every message delivered: \(seen) seen, \(counts[.sent]) sent, \(summary[.delivered]) delivered")
    let lag = lastSend.flatMap { last in lastSettled.at.withLock { $0 }.map { seconds(last.duration(to: $0)) } } ?? -1
    emit(["figure": "pg_story_msgs_per_s", "rows": rows, "workers": 3, "kills": killed, "value": Int(Double(rows) / sendSeconds),
          "seconds": sendSeconds, "requests": requests, "callbacks": posted.value.load(ordering: .relaxed)])
    emit(["figure": "pg_story_worker_peak_rss_mb", "value": rss.max() ?? -1, "each": rss])
    emit(["figure": "pg_story_receiver_peak_rss_mb", "value": receiverRSS])
    emit(["figure": "pg_story_last_send_to_last_receipt_s", "value": lag])
}
