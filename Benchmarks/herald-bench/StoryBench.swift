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
            /// Callbacks to post: `queue[head...]`.
            var queue: [String] = []
            var head = 0
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

/// Posts one array of Agile callbacks on a connection of its own; true once answered 204.
func postBatch(_ batch: [String], port: Int, token: String) -> Bool {
    let fd = connectLoopback(port: port)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let body = "[" + batch.joined(separator: ",") + "]"
    let request = Array("POST /receipts/agile/\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    var offset = 0
    while offset < request.count {
        let written = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written > 0 else { return false }
        offset += written
    }
    var buffer = [UInt8](repeating: 0, count: 4096)
    var head: [UInt8] = []
    while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        head += buffer[0..<count]
    }
    let answer = String(decoding: head, as: UTF8.self)
    precondition(answer.prefix(12).hasSuffix("204"), "callbacks accepted: \(answer)")
    return true
}

/// When the last batch of callbacks was committed.
final class LastSettled: Sendable {
    let at = Mutex<ContinuousClock.Instant?>(nil)
}

/// A child `herald` process (Foundation's `Process`, which closes this process's sockets
/// in the child: a child holding the provider's listening socket would take its requests).
final class HeraldChild {
    let process = Process()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: heraldBinary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Its peak RSS (MB), then `signal`, then its end.
    func stop(_ signal: Int32) -> (status: Int32, rssMB: Double) {
        let rss = peakRSSMegabytes(pid: process.processIdentifier)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return (process.terminationStatus, rss)
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
    // Threads of their own: blocking sockets must not hold the tasks' few threads.
    let posting = DispatchGroup()
    for _ in 0..<4 {
        posting.enter()
        Thread.detachNewThread {
            defer { posting.leave() }
            while true {
                let batch = log.state.withLock { state -> [String] in
                    let batch = Array(state.queue[state.head..<min(state.queue.count, state.head + 500)])
                    state.head += batch.count
                    if state.head > 100_000 {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return batch
                }
                if batch.isEmpty {
                    if stop.raised.load(ordering: .relaxed) { return }
                    usleep(5_000)
                    continue
                }
                // As a provider does: a connection the receiver closed is opened again and
                // the batch sent again (a repeated event changes nothing).
                while !postBatch(batch, port: port, token: token) { usleep(10_000) }
                posted.value.add(batch.count, ordering: .relaxed)
                lastSettled.at.withLock { $0 = .now }
            }
        }
    }
    _ = timedHerald(["schedule", campaign.path, "--journal", url])
    let start = ContinuousClock.now
    var workers = try (0..<3).map { _ in try HeraldChild(["worker", "--poll", "0.2"], environment: environment) }
    var rss: [Double] = []
    var killed = 0
    for fraction in [4, 2] {
        while log.state.withLock({ $0.seen.count }) < rows / fraction { usleep(20_000) }
        rss.append(workers[2].stop(SIGKILL).rssMB)
        killed += 1
        workers[2] = try HeraldChild(["worker", "--poll", "0.2"], environment: environment)
    }
    // Until the campaign is completed.
    let reader = try JournalOpener.open(url, create: false)
    while try reader.campaign(id: id, mode: .real)?.state != .completed { usleep(100_000) }
    let sendSeconds = seconds(start.duration(to: .now))
    stop.raised.store(true, ordering: .relaxed)
    posting.wait()
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
    let unmatched = try JournalOpener.receipts(url).unmatchedReceipts()
    FileHandle.standardError.write(Data(("story: \(seen) seen, \(counts[.sent]) sent, \(counts[.skipped]) skipped, "
        + "\(counts[.inDoubt]) in doubt, \(summary[.delivered]) delivered, \(summary.read) read, unmatched \(unmatched)\n").utf8))
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
