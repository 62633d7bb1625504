import Foundation
import HeraldCore
import HeraldProviders
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The simulator's outbox is shared by every process sending to it, under a file lock.
@Suite struct SimulatorOutboxTests {
    func message(row: Int) -> OutboundMessage {
        OutboundMessage(campaign: "spring", row: row, destination: PhoneNumber(digits: 15_550_100 + UInt64(row), region: "US"),
                        body: "Hi", parts: 1)
    }

    /// A process frozen while it holds the outbox's lock (SIGSTOP) must not stall every other
    /// sender: a send waits half a second, then is answered "throttled" (retried later, not
    /// counted as an attempt) and delivers nothing; once the lock is free it is delivered.
    /// Journey seed 20675: a sender's sends all blocked on the lock, its heartbeat with them.
    @Test func aLockHeldByAFrozenProcessThrottlesInsteadOfBlocking() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = SimulatorConfiguration()
        configuration.outboxPath = folder.appendingPathComponent("outbox.jsonl").path
        let provider = try SimulatorProvider(configuration: configuration)
        #expect(await provider.send(message(row: 2)) == .accepted(providerRef: ""))

        // Another open file description: its flock conflicts as another process's would.
        let other = open(configuration.outboxPath!, O_RDWR)
        #expect(other >= 0 && flock(other, LOCK_EX) == 0)
        let started = ContinuousClock.now
        let busy = await provider.send(message(row: 3))
        let waited = started.duration(to: .now)
        #expect(busy == .throttled(retryAfter: .seconds(1)), "\(busy)")
        #expect(waited >= .milliseconds(400) && waited < .seconds(5), "\(waited)")
        let lines = try String(contentsOfFile: configuration.outboxPath!, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1, "nothing delivered while the lock was held")

        flock(other, LOCK_UN)
        close(other)
        #expect(await provider.send(message(row: 3)) == .accepted(providerRef: ""))
        #expect(try String(contentsOfFile: configuration.outboxPath!, encoding: .utf8).split(separator: "\n").count == 2)
    }
}
