import Foundation
import Testing

/// Issue 21, finding 11: no one-second window of sends holds more than rate + burst, whatever
/// stalls the sender. The sender is a real `herald run`, frozen with SIGSTOP mid-campaign (a
/// GC-like pause, a stalled VM); the windows are counted from the send times the simulator's
/// outbox records.
@Suite(.serialized) struct PacingTests {
    struct Sent: Decodable { let ts: String }

    /// Runs `rows` recipients at `rate`/`burst`, freezing the sender for each of `stalls`
    /// (after the given delay from the previous thaw), and returns the outbox's send times.
    func sendTimes(rows: Int, rate: Int, burst: Int, stalls: [(after: Double, for: Double)]) throws -> [Double] {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(rows).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("paced", provider: "{kind: simulator, latency_ms: 1, outbox: outbox.jsonl}",
                                        extra: "rate: {messages_per_second: \(rate), burst: \(burst), max_in_flight: 32}")
        let run = try HeraldProcess(["run", file], in: fixture.folder)
        for _ in 0..<1000 where FileManager.default.contents(atPath: fixture.path("outbox.jsonl"))?.isEmpty ?? true {
            usleep(10_000)
        }
        for stall in stalls {
            usleep(useconds_t(stall.after * 1e6))
            run.signal(SIGSTOP)
            usleep(useconds_t(stall.for * 1e6))
            run.signal(SIGCONT)
        }
        let outcome = run.wait(timeout: 300)
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let data = FileManager.default.contents(atPath: fixture.path("outbox.jsonl")) ?? Data()
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let times = try data.split(separator: UInt8(ascii: "\n")).map { line -> Double in
            let sent = try JSONDecoder().decode(Sent.self, from: Data(line))
            return try #require(parser.date(from: sent.ts)).timeIntervalSince1970
        }
        #expect(times.count == rows)
        return times.sorted()
    }

    /// The most sends any window [t, t + 1 s) holds.
    static func busiestSecond(_ times: [Double]) -> Int {
        var worst = 0
        var end = 0
        for start in times.indices {
            while end < times.count, times[end] < times[start] + 1 { end += 1 }
            worst = max(worst, end - start)
        }
        return worst
    }

    @Test func twoHundredASecondWithBurstOneThroughStalls() throws {
        let times = try sendTimes(rows: 1400, rate: 200, burst: 1,
                                  stalls: [(after: 1.0, for: 0.3), (after: 1.0, for: 0.7), (after: 0.8, for: 0.05)])
        let worst = Self.busiestSecond(times)
        print("200/s burst 1 with three stalls: busiest second \(worst) sends")
        #expect(worst <= 201, "a one-second window held \(worst) sends")
    }

    @Test func fiveThousandASecondWithBurstFiftyThroughStalls() throws {
        let times = try sendTimes(rows: 16_000, rate: 5000, burst: 50,
                                  stalls: [(after: 0.6, for: 0.25), (after: 0.6, for: 0.5)])
        let worst = Self.busiestSecond(times)
        print("5000/s burst 50 with two stalls: busiest second \(worst) sends")
        #expect(worst <= 5050, "a one-second window held \(worst) sends")
    }
}

/// Issue 21, finding 12: `herald-bench --help` printed nothing and ran the whole benchmark set.
@Suite struct BenchCommandLineTests {
    static let bench = URL(fileURLWithPath: HeraldProcess.binary).deletingLastPathComponent()
        .appendingPathComponent("herald-bench").path

    @Test func helpPrintsTheModesAndRunsNothing() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bench), "herald-bench is built next to herald")
        let folder = try CLIFixture().folder
        let help = try HeraldProcess.run(["--help"], in: folder, binary: Self.bench, timeout: 10)
        #expect(help.status == 0)
        #expect(help.stdout.contains("usage:") && help.stdout.contains("rate R") && help.stdout.contains("pg-pair N URL"))
        let unknown = try HeraldProcess.run(["--frobnicate"], in: folder, binary: Self.bench, timeout: 10)
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown mode '--frobnicate'"))
        let missing = try HeraldProcess.run(["e2e", "lots"], in: folder, binary: Self.bench, timeout: 10)
        #expect(missing.status == 2 && missing.stderr.contains("missing or bad arguments"))
    }
}
