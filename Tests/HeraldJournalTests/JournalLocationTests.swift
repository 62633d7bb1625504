import Foundation
@testable import HeraldPostgres
import HeraldJournal
import HeraldSQLite
import HeraldTestSupport
import Testing

/// `--journal`: a file path, or a PostgreSQL URL; never a URL taken for a path.
@Suite struct JournalLocationTests {
    @Test func pathsAndURLs() throws {
        #expect(try JournalLocation(parsing: ".herald/journal.sqlite") == .sqlite(path: ".herald/journal.sqlite"))
        #expect(try JournalLocation(parsing: "/var/lib/herald/a:b.sqlite") == .sqlite(path: "/var/lib/herald/a:b.sqlite"))
        guard case .postgres(let target) = try JournalLocation(parsing: "postgres://herald@db.internal:6543/sends?sslmode=verify-full&lease_timeout=12")
        else {
            Issue.record("a postgres URL opens PostgreSQL")
            return
        }
        #expect(target.host == "db.internal" && target.port == 6543 && target.user == "herald" && target.database == "sends")
        #expect(target.tls == .verifyFull && target.leaseTimeoutSeconds == 12)
        #expect(try JournalLocation(parsing: "postgresql://u@h/d").isPostgres)
    }

    @Test(arguments: ["mysql://u@h/d", "file:///tmp/j.sqlite", "sqlite://j.sqlite", "Postgre://x"])
    func otherSchemesAreRefused(_ text: String) {
        #expect(throws: JournalError.self) { try JournalLocation(parsing: text) }
        // Nor does the SQLite journal take one for a file name.
        #expect(throws: JournalError.self) { try Journal(path: text) }
    }

    @Test func badParametersAreRefused() {
        for text in ["postgres://u@h/d?sslmode=maybe", "postgres://u@h/d?lease_timeout=0", "postgres://u@h/d?colour=red", "postgres:///d"] {
            #expect(throws: JournalError.self, "\(text)") { try JournalLocation(parsing: text) }
        }
    }

    @Test func thePasswordComesFromTheURLThenPGPASSWORDThenPgpassAndIsNeverShown() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-pgpass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pgpass = folder.appendingPathComponent("pgpass").path
        try """
            # comment
            other:5432:*:herald:wrong
            db.internal:5432:sends:herald:from\\:pgpass
            *:*:*:*:fallback
            """.write(toFile: pgpass, atomically: true, encoding: .utf8)
        let url = "postgres://herald@db.internal:5432/sends"
        #expect(try PostgresTarget(url: "postgres://herald:in%40url@db.internal/sends", environment: [:]).password == "in@url")
        #expect(try PostgresTarget(url: url, environment: ["PGPASSWORD": "from-env", "PGPASSFILE": pgpass]).password == "from-env")
        #expect(try PostgresTarget(url: url, environment: ["PGPASSFILE": pgpass]).password == "from:pgpass")
        #expect(try PostgresTarget(url: "postgres://x@y/z", environment: ["PGPASSFILE": pgpass]).password == "fallback")
        let shown = try JournalLocation(parsing: "postgres://herald:s3cret@db.internal:5432/sends").description
        #expect(shown == "postgres://herald@db.internal:5432/sends")
        do {
            _ = try JournalLocation(parsing: "mysql://herald:s3cret@db.internal/sends")
        } catch {
            #expect(!"\(error)".contains("s3cret"))
        }
    }

    @Test func anUnreachableServerIsAClearErrorWithoutThePassword() {
        do {
            _ = try PostgresJournal(target: PostgresTarget(url: "postgres://herald:s3cret@127.0.0.1:1/sends?sslmode=disable", environment: [:]))
            Issue.record("nothing listens on port 1")
        } catch {
            let message = "\(error)"
            #expect(message.contains("127.0.0.1:1") && message.contains("\"sends\""), "\(message)")
            #expect(!message.contains("s3cret"))
        }
    }

    @Test func aNewerSchemaIsRefusedAndLeftUntouched() throws {
        guard let fixture = try Fixture(.postgres) else { return }
        let url = String(fixture.location.prefix { $0 != "?" })
        _ = try fixture.open()  // creates schema version 1
        try TestPostgres.query(url, "UPDATE herald.herald_meta SET value = '99' WHERE key = 'schema_version'")
        try TestPostgres.query(url, "CREATE TABLE herald.future_table (x int)")
        do {
            _ = try fixture.open()
            Issue.record("a newer schema must be refused")
        } catch {
            #expect("\(error)".contains("schema version 99 is newer"), "\(error)")
        }
        #expect(try TestPostgres.query(url, "SELECT value FROM herald.herald_meta WHERE key = 'schema_version'") == ["99"])
        #expect(try TestPostgres.query(url, "SELECT count(*)::text FROM herald.future_table") == ["0"])
    }
}

/// `sslmode` against a real server with TLS (`.ci/with-postgres` gives it a certificate of its own).
@Suite struct PostgresTLSTests {
    /// Whether the journal's own connection is encrypted, as the server sees it.
    func encrypted(_ url: String) throws -> Bool {
        guard case .postgres(let target) = try JournalLocation(parsing: url) else { return false }
        let journal = try PostgresJournal(target: target)
        return try journal.session.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.cells.bool(0) ?? false
    }

    @Test func sslmodeIsHonoured() throws {
        guard let base = TestPostgres.baseURL, let ca = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_CA"] else {
            if TestPostgres.required { Issue.record("HERALD_TEST_POSTGRES_URL and _CA are set by .ci/with-postgres") }
            return
        }
        #expect(try encrypted(base + "?sslmode=require"))
        #expect(try encrypted(base + "?sslmode=verify-full&sslrootcert=\(ca)"))
        #expect(try encrypted(base + "?sslmode=verify-ca&sslrootcert=\(ca)"))
        #expect(try !encrypted(base + "?sslmode=disable"))
        // Its certificate is not signed by any root the system trusts: verification refuses it.
        #expect(throws: JournalError.self) { try encrypted(base + "?sslmode=verify-full") }
        // The certificate names localhost too: verify-full checks the name the URL gives.
        let other = base.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        #expect(try encrypted(other + "?sslmode=verify-full&sslrootcert=\(ca)"))
    }
}
