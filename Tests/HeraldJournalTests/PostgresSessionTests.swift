import Foundation
@testable import HeraldJournal
import HeraldTestSupport
@testable import HeraldPostgres
import Testing

/// The session's waits on a real server: none outlives its connection.
@Suite struct PostgresSessionTests {
    /// postgres-nio writes a statement to its channel without a promise: one written as the
    /// channel closes (a server restart between the `isClosed` check and the write) is never
    /// answered nor failed. A wait on it fails once the connection is closed, not after the
    /// two-minute statement timeout (a sender sat in a settle after `pg_ctl restart` until the
    /// test killed it at 90 s).
    @Test func aWaitWhoseConnectionClosedEndsWithTheConnection() throws {
        guard let base = TestPostgres.baseURL else {
            if TestPostgres.required { Issue.record(Comment(rawValue: TestPostgres.skipNote)) }
            return
        }
        let session = try PostgresSession(target: try PostgresTarget(url: base + "?sslmode=disable"))
        let connection = try #require(session.connection)
        // What postgres-nio leaves behind: a promise nobody will complete.
        let orphan = connection.eventLoop.makePromise(of: Int.self)
        defer { orphan.succeed(0) }
        let started = ContinuousClock.now
        try connection.close().wait()
        #expect(throws: PostgresSessionLost.self) { try PostgresSession.bounded(orphan.futureResult, on: connection) }
        // Within a few looks (one a second), far from the statement timeout.
        #expect(started.duration(to: .now) < .seconds(30), "\(started.duration(to: .now))")
        #expect(PostgresSession.statementTimeout > .seconds(60))
        // An answer that came is taken, the connection open.
        let live = try PostgresSession(target: try PostgresTarget(url: base + "?sslmode=disable"))
        #expect(try live.query("SELECT 7").first?.cells.int(0) == 7)
    }
}
