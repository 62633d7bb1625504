import Foundation

/// Where the journal lives: a SQLite file (the embedded default), or a PostgreSQL
/// database that several senders on several machines share.
///
/// A value that looks like a URL (`scheme://...`) is never taken for a file path: a
/// PostgreSQL URL opens PostgreSQL, any other scheme is an error.
public enum JournalLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresTarget)

    public init(parsing text: String) throws(JournalError) {
        guard let scheme = Self.scheme(of: text) else {
            self = .sqlite(path: text)
            return
        }
        switch scheme.lowercased() {
        case "postgres", "postgresql": self = .postgres(try PostgresTarget(url: text))
        default:
            throw JournalError(.badLocation("unknown journal scheme \"\(scheme)://\"; use a file path or postgres://user@host:5432/db"),
                               path: Self.redacted(text))
        }
    }

    /// `scheme` when the text starts with `scheme://`.
    package static func scheme(of text: String) -> String? {
        guard let range = text.range(of: "://") else { return nil }
        let scheme = text[..<range.lowerBound]
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) })
        else { return nil }
        return String(scheme)
    }

    /// The text with any password replaced, for messages.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@") else { return text }
        let userInfo = text[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// How messages name it: the file path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let target): target.description
        }
    }

    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}

/// A PostgreSQL database to connect to, from `postgres://user[:password]@host[:port]/db[?sslmode=...]`.
/// The password, when not in the URL, comes from `PGPASSWORD`, then `~/.pgpass`.
public struct PostgresTarget: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (libpq's default), without checking its certificate.
        case prefer
        /// TLS or no connection; the certificate is not checked (as libpq's `require`).
        case require
        /// TLS, the certificate chained to a trusted root (`sslrootcert`, else the system's), any host name.
        case verifyCA = "verify-ca"
        /// TLS, the certificate chained to a trusted root and naming the host.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// PEM file of the roots to trust for `verify-ca` / `verify-full`.
    public var rootCertificatePath: String?
    /// How long a sender may go without a heartbeat before the others take its rows
    /// over (`?lease_timeout=SECONDS`, default 30).
    public var leaseTimeoutSeconds: Double

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(JournalError) {
        let shown = JournalLocation.redacted(text)
        func bad(_ why: String) -> JournalError { JournalError(.badLocation(why), path: shown) }
        guard let components = URLComponents(string: text) else { throw bad("not a valid URL") }
        guard let host = components.host, !host.isEmpty else { throw bad("the URL names no host (postgres://user@host:5432/db)") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? "postgres"
        let name = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = name.removingPercentEncoding ?? name
        if database.isEmpty { database = environment["PGDATABASE"] ?? user }
        tls = .prefer
        rootCertificatePath = nil
        leaseTimeoutSeconds = 30
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw bad("sslmode \"\(value)\" is not one of disable, prefer, require, verify-ca, verify-full")
                }
                tls = mode
            case "sslrootcert": rootCertificatePath = value
            case "lease_timeout":
                guard let seconds = Double(value), seconds >= 1 else { throw bad("lease_timeout must be a number of seconds, at least 1") }
                leaseTimeoutSeconds = seconds
            case "application_name", "connect_timeout": continue
            default: throw bad("unknown parameter \"\(item.name)\" (known: sslmode, sslrootcert, lease_timeout)")
            }
        }
        password = components.password.flatMap { $0.removingPercentEncoding }
            ?? environment["PGPASSWORD"]
            ?? PGPass.password(host: self.host, port: port, database: database, user: user, environment: environment)
    }

    /// `postgres://user@host:port/db`: never the password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// `~/.pgpass` (or `PGPASSFILE`): `host:port:database:user:password` lines, `*` matching
/// anything, `\:` and `\\` escaped. The first matching line wins, as with libpq.
enum PGPass {
    static func password(host: String, port: Int, database: String, user: String, environment: [String: String]) -> String? {
        let path = environment["PGPASSFILE"]
            ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? NSHomeDirectory() + "/.pgpass")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let wanted = [host, String(port), database, user]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = split(line)
            guard fields.count == 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    static func split(_ line: Substring) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}
