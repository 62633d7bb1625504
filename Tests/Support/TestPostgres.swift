import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The PostgreSQL server tests use: `HERALD_TEST_POSTGRES_URL` (`.ci/run` starts a
/// throwaway cluster on 127.0.0.1 and sets it). Each test takes a database of its own.
public enum TestPostgres {
    public static var baseURL: String? {
        let value = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }

    /// Whether a missing server is a failure (CI always runs the PostgreSQL tests).
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    public static let skipNote = "PostgreSQL tests skipped: HERALD_TEST_POSTGRES_URL is not set (.ci/run sets it)"

    /// A new, empty database on the test server; its URL (same user and host).
    public static func freshDatabase(_ prefix: String = "herald_t") throws -> String {
        guard let base = baseURL, var components = URLComponents(string: base) else { throw Missing() }
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try withConnection(components) { connection, logger in
            _ = try connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger).wait()
        }
        components.path = "/" + name
        return components.string!
    }

    /// Runs one SQL statement on the database of `url` and returns the first column of each row, as text.
    @discardableResult
    public static func query(_ url: String, _ sql: String) throws -> [String?] {
        guard let components = URLComponents(string: url) else { throw Missing() }
        return try withConnection(components) { connection, logger in
            try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait().rows.map { row in
                try row.makeRandomAccess()[0].decode(String?.self)
            }
        }
    }

    /// Makes the database of `url` refuse new connections and ends its sessions (for its
    /// clients, the server gone), or take connections again.
    public static func reachable(_ url: String, _ reachable: Bool) throws {
        guard let base = baseURL, let components = URLComponents(string: url) else { throw Missing() }
        let database = String(components.path.dropFirst())
        try query(base, "ALTER DATABASE \(database) ALLOW_CONNECTIONS \(reachable)")
        if !reachable {
            try query(base, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = '\(database)'")
        }
    }

    private static func withConnection<T>(_ components: URLComponents,
                                          _ body: (PostgresConnection, Logger) throws -> T) throws -> T {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .critical
        let database = components.path.count > 1 ? String(components.path.dropFirst()) : "postgres"
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database, tls: .disable)
        let connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger).wait()
        defer { try? (connection.close() as EventLoopFuture<Void>).wait() }
        return try body(connection, logger)
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { TestPostgres.skipNote }
    }
}
