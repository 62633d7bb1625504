import Dispatch
import Foundation
import HeraldJournal

import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// One connection to PostgreSQL, used from one thread at a time (the engine's journal
/// queue), with blocking calls: the journal protocol is synchronous, as SQLite's is.
/// A lost connection is made again on the next call.
final class PostgresSession {
    let target: PostgresTarget
    private(set) var connection: PostgresConnection?
    private var logger: Logger = {
        var logger = Logger(label: "herald.postgres")
        logger.logLevel = .critical  // postgres-nio logs queries at debug; never bound values
        return logger
    }()
    private static let ids = Atomic<Int>(0)
    /// The connections' own event loop, for the life of the process. On the shared one,
    /// each answer waited behind the HTTP work of servers and provider clients in the same
    /// process (measured: a `BEGIN` took 1.6 ms in a busy receiver, more than `COMMIT`).
    private static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(target: PostgresTarget) throws(JournalError) {
        self.target = target
        try connect()
    }

    deinit {
        close()
    }

    /// Connects (again). The error names host and database, never the password.
    func connect() throws(JournalError) {
        close()
        var configuration = PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password,
            database: target.database, tls: try tls())
        configuration.options.connectTimeout = .seconds(10)
        let id = Self.ids.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            let made = try PostgresConnection.connect(
                on: Self.eventLoops.next(), configuration: configuration, id: id, logger: logger
            ).wait()
            connection = made
            // A sender frozen inside a transaction (SIGSTOP, a stalled VM) would hold its locks,
            // the campaign row among them, and stall every other sender for as long as it is
            // frozen: the server ends such a transaction once it has been idle for half a lease
            // timeout, so the senders waiting on its locks keep their own leases (ended at a
            // whole lease timeout, they lost theirs too, and their rows in flight were resent:
            // seen in FencingTests under load); the sender, when it wakes, finds its connection
            // closed and makes its step again. A live sender's transaction never waits on its
            // own client for that long (steps take milliseconds).
            let idle = max(500, Int(target.leaseTimeoutSeconds * 500))
            // No JIT compilation: every statement here is short, and a plan whose estimate
            // passes `jit_above_cost` (a batch of keys against stale statistics) spent more
            // time compiling than running (measured: half the server's CPU under receipts).
            // Bounded as every statement is (the handshake is bounded by `connectTimeout`): a
            // server restarting under it may never answer.
            _ = try Self.bounded(made.query(PostgresQuery(unsafeSQL: """
                SELECT set_config('search_path', 'herald, public', false), set_config('jit', 'off', false),
                    set_config('idle_in_transaction_session_timeout', '\(idle)', false)
                """), logger: logger), on: made)
        } catch {
            throw JournalError.server(
                "cannot connect to PostgreSQL at \(target.host):\(target.port), database \"\(target.database)\", "
                    + "user \"\(target.user)\": \(Self.describe(error))", path: target.description)
        }
    }

    private func tls() throws(JournalError) -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch target.tls {
        case .disable: return .disable
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let roots = target.rootCertificatePath { configuration.trustRoots = .file(roots) }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            return target.tls == .prefer ? .prefer(context) : .require(context)
        } catch {
            throw JournalError.server("TLS setup failed (sslrootcert?): \(error)", path: target.description)
        }
    }

    func close() {
        if let connection { _ = try? Self.bounded(connection.close() as EventLoopFuture<Void>) }
        connection = nil
    }

    /// Runs one statement, its values bound where they are interpolated, and returns all its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        // A connection the server closed (a restart) is made again rather than written to.
        guard let connection, !connection.isClosed else { throw PostgresSessionLost() }
        let answer = connection.query(query, logger: logger)
        try awaitBegin()
        return try Self.bounded(answer, on: connection).rows
    }

    /// Runs a statement assembled from parts (`CounterUpserts`, the schema's migrations), with
    /// its own `$n` bindings.
    @discardableResult
    func query(unsafeSQL sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> [PostgresRow] {
        try query(PostgresQuery(unsafeSQL: sql, binds: binds))
    }

    /// A transaction's `BEGIN`, sent but not yet waited for: it is waited for with the
    /// transaction's first statement, queued right behind it (one wait instead of two).
    private var pendingBegin: EventLoopFuture<PostgresQueryResult>?

    private func awaitBegin() throws {
        guard let begin = pendingBegin else { return }
        pendingBegin = nil
        _ = try Self.bounded(begin, on: connection)
    }

    /// The longest a statement may take before its connection is given up for lost.
    static let statementTimeout: TimeAmount = .seconds(120)
    /// How often a wait looks whether its connection closed under it.
    static let closedCheck: TimeAmount = .seconds(1)

    /// Waits for `future`, failing with `PostgresSessionLost` after `statementTimeout` (a
    /// connection that died without saying so never answers), or within `closedCheck` once
    /// `connection` is closed without having answered: postgres-nio writes a statement to its
    /// channel without a promise, so one written as the channel closed (a server restart between
    /// the `isClosed` check and the write) is never answered nor failed (seen: a sender stuck
    /// in a settle after `pg_ctl restart` until the statement timeout, longer than the test).
    static func bounded<T>(_ future: EventLoopFuture<T>, on connection: PostgresConnection? = nil) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        let deadline = NIODeadline.now() + statementTimeout
        // One scheduled task per wait, as before: it looks every second, and ends with the wait.
        let watch = future.eventLoop.scheduleRepeatedTask(initialDelay: closedCheck, delay: closedCheck) { _ in
            // On the event loop, after every answer already read: an answer that came is taken first.
            if connection?.isClosed == true || NIODeadline.now() >= deadline { promise.fail(PostgresSessionLost()) }
        }
        promise.futureResult.whenComplete { _ in watch.cancel() }
        return try promise.futureResult.wait()
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard let connection, !connection.isClosed else { throw PostgresSessionLost() }
        pendingBegin = connection.query("BEGIN", logger: logger)
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            pendingBegin = nil
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// `COPY table (columns) FROM STDIN` with `data` in text format.
    func copy(into table: String, columns: [String], data: ByteBuffer) throws {
        guard let connection, !connection.isClosed else { throw PostgresSessionLost() }
        try awaitBegin()
        let logger = self.logger
        try Self.blocking(on: connection) {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                try await writer.write(data)
            }
        }
    }

    /// Waits for async work on the calling thread. The work runs on an executor of its
    /// own, never on the cooperative pool, whose threads may all be waiting like this one.
    /// Given up (`PostgresSessionLost`) once `connection` closed without the work ending, as
    /// `bounded` does: what it wrote is rolled back with its connection's transaction.
    private static func blocking(on connection: PostgresConnection, _ work: @escaping @Sendable () async throws -> Void) throws {
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: QueueExecutor.shared) {
            do {
                try await work()
                outcome.withLock { $0 = .success(()) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        while done.wait(timeout: .now() + .seconds(1)) == .timedOut {
            if connection.isClosed, outcome.withLock({ $0 == nil }) { throw PostgresSessionLost() }
        }
        try outcome.withLock { $0! }.get()
    }

    /// Whether the error says the connection (or the server) went away, so that the
    /// work may be tried again on a new connection; or a transaction lost a race that
    /// PostgreSQL resolved by aborting it.
    static func isTransient(_ error: any Error) -> Bool {
        if error is PostgresSessionLost { return true }
        guard let error = error as? PSQLError else { return error is ChannelError || error is IOError }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 08: connection exceptions; 57P0x: server shutting down; 40001/40P01: serialization,
            // deadlock; 25P03: a transaction left idle past the timeout (a frozen sender) was ended.
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "40001" || state == "40P01" || state == "25P03"
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        default: return false
        }
    }

    /// What went wrong, from the server's message where there is one (never bound values).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            // Nested (a connection error wraps the one that closed it): its own words, never
            // PSQLError's generic text.
            if let underlying = error.underlying { return describe(underlying) }
            return "\(error.code)"
        }
        if error is PostgresSessionLost { return "the connection was lost" }
        return "\(error)"
    }
}

/// Runs tasks' jobs on a dispatch queue of its own (see `PostgresSession.blocking`).
final class QueueExecutor: TaskExecutor, @unchecked Sendable {  // a serial queue is its only state
    static let shared = QueueExecutor()
    private let queue = DispatchQueue(label: "herald.postgres.async")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The session has no connection (it was lost and not yet made again).
struct PostgresSessionLost: Error {}

extension PostgresRow {
    /// The row's cells by position.
    var cells: PostgresRandomAccessRow { makeRandomAccess() }
}

extension PostgresRandomAccessRow {
    func int(_ index: Int) throws -> Int { try self[index].decode(Int.self) }
    func int64(_ index: Int) throws -> Int64 { try self[index].decode(Int64.self) }
    func optionalInt64(_ index: Int) throws -> Int64? { try self[index].decode(Int64?.self) }
    func string(_ index: Int) throws -> String? { try self[index].decode(String?.self) }
    func double(_ index: Int) throws -> Double { try self[index].decode(Double.self) }
    func bool(_ index: Int) throws -> Bool { try self[index].decode(Bool.self) }
}

/// Bindings built from a list, for `$1, $2...` in order.
func binds(_ build: (inout PostgresBindings) throws -> Void) rethrows -> PostgresBindings {
    var bindings = PostgresBindings()
    try build(&bindings)
    return bindings
}


extension PostgresQuery.StringInterpolation {
    /// A message state's code written into the statement, not bound: the planner then
    /// matches the partial indexes on `state` (`message_pending`, `message_sending`...).
    mutating func appendInterpolation(_ state: MessageState) {
        appendInterpolation(unescaped: String(state.rawValue))
    }

    /// One of Herald's own string constants (a campaign state, a run mode, a reason) as a
    /// quoted literal, as the partial indexes and checks on it are written.
    mutating func appendInterpolation<Constant: RawRepresentable>(literal constant: Constant) where Constant.RawValue == String {
        appendInterpolation(unescaped: "'" + constant.rawValue.replacingOccurrences(of: "'", with: "''") + "'")
    }

    /// SQL text Herald wrote itself (a column list, a table expression): never a value from outside.
    mutating func appendInterpolation(sql: String) {
        appendInterpolation(unescaped: sql)
    }
}
