import Foundation
import HeraldTestSupport
import Synchronization
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

#if canImport(Glibc)
import Glibc
#endif

/// The receiver answers 2xx only after the events are committed: SIGKILL it during a
/// flood of callbacks, restart it, and every event a client saw acknowledged is in the
/// journal (counted from the clients' side).
@Suite(.serialized) struct ReceiptCrashTests {
    func references(_ path: String) throws -> Set<String> {
        let journal = try Journal(path: path, create: false)
        let statement = try journal.db.statement("SELECT ref FROM receipt WHERE ref IS NOT NULL")
        var refs = Set<String>()
        while try statement.step() { refs.insert(statement.string(0) ?? "") }
        statement.reset()
        return refs
    }

    @Test func sigkillDuringAFloodLosesNoAcknowledgedEvent() throws {
        let fixture = try CLIFixture()
        let acknowledged = Mutex<Set<String>>([])
        var killedWhileSending = 0
        for round in 0..<3 {
            let server = try ReceiptServerProcess(fixture)
            let stop = Atomic<Bool>(false)
            let group = DispatchGroup()
            for client in 0..<8 {
                DispatchQueue.global().async(group: group) {
                    var index = 0
                    while !stop.load(ordering: .relaxed) {
                        let id = "flood-\(round)-\(client)-\(index)"
                        index += 1
                        let body = #"[{"eventType":"DELIVERY","messageId":"\#(id)","statusCode":3},{"eventType":"READ","messageId":"\#(id)-r"}]"#
                        guard let answer = server.post("agile", body) else { continue }
                        if answer.status == 204 { acknowledged.withLock { _ = $0.insert(id); _ = $0.insert(id + "-r") } }
                    }
                }
            }
            // Mid-flood: once the clients see answers (however busy the machine), a little later.
            let start = acknowledged.withLock { $0.count }
            let deadline = Date().addingTimeInterval(20)
            while acknowledged.withLock({ $0.count }) < start + 100, Date() < deadline { usleep(10_000) }
            usleep(UInt32.random(in: 0...300_000))
            let before = acknowledged.withLock { $0.count } - start
            server.process.signal(SIGKILL)
            let result = server.process.wait()
            stop.store(true, ordering: .relaxed)
            group.wait()
            if result.status == 128 + SIGKILL && before > 0 { killedWhileSending += 1 }
        }
        #expect(killedWhileSending == 3, "each kill came mid-flood")
        let acked = acknowledged.withLock { $0 }
        let stored = try references(fixture.path("journal.sqlite"))
        let missing = acked.subtracting(stored)
        #expect(acked.count > 100 && missing.isEmpty, "\(acked.count) acknowledged, \(missing.count) missing: \(missing.prefix(5))")
        // The journal is whole: it opens, and doctor finds nothing to repair.
        let restarted = try ReceiptServerProcess(fixture)
        #expect(restarted.post("agile", #"{"eventType":"DELIVERY","messageId":"after","statusCode":3}"#)?.status == 204)
        #expect(restarted.stop().status == 0)
    }
}
