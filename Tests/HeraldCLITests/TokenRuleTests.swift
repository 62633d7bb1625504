import Foundation
import HeraldServer
import HeraldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Who may reach the dashboard: loopback decided by parsing the address; off loopback a
/// token of 128 bits or herald exits 3 before listening (`serve` and `worker --http` alike).
@Suite struct TokenRuleTests {
    @Test(arguments: [
        ("127.0.0.1", true), ("127.8.9.10", true), ("localhost", true), ("::1", true), ("[::1]", true),
        ("::ffff:127.0.0.1", true), ("127.0.0.1.nip.io", false), ("127.example", false), ("0.0.0.0", false),
        ("::", false), ("10.0.0.1", false), ("::ffff:10.0.0.1", false), ("", false), ("1270.0.0.1", false),
    ])
    func loopbackIsParsedNotSpelled(_ host: String, _ loopback: Bool) {
        #expect(Loopback.contains(host) == loopback, "\(host)")
    }

    /// None of these may bind: each exits 3 at once with a message saying what to do.
    @Test(arguments: [
        (["serve", "--listen", "0.0.0.0:0"], [String: String](), "needs a token"),
        (["serve", "--listen", "0.0.0.0:0"], ["HERALD_AUTH_TOKEN": "abc"], "at least 16 characters"),
        (["serve", "--listen", "0.0.0.0:0"], ["HERALD_AUTH_TOKEN": "0123456789abcdef0123"], "128 bits"),
        (["serve", "--listen", "127.0.0.1.nip.io:0"], [String: String](), "needs a token"),
        (["worker", "--http", "0.0.0.0:0"], [String: String](), "needs a token"),
        (["worker", "--http", "0.0.0.0:0"], ["HERALD_AUTH_TOKEN": "abc"], "at least 16 characters"),
        (["worker", "--http", "[::]:0"], ["HERALD_AUTH_TOKEN": "0123456789abcdef0123"], "128 bits"),
    ])
    func offLoopbackWithoutAStrongTokenExits3(_ arguments: [String], _ environment: [String: String], _ message: String) throws {
        let fixture = try CLIFixture()
        let process = try HeraldProcess(arguments + ["--journal", "journal.sqlite"], in: fixture.folder, environment: environment)
        let result = process.wait(timeout: 20)
        #expect(result.status == 3, "\(arguments): \(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"), "never listened")
    }

    /// A token in argv works but warns; one from a file is read (and a loose file warned about).
    @Test func tokensFromTheCommandLineWarnAndFromAFileAreRead() throws {
        let fixture = try CLIFixture()
        let argv = try HeraldProcess(["serve", "--listen", "0.0.0.0:0", "--auth-token", "short-but-16-chars", "--journal", "journal.sqlite"],
                                     in: fixture.folder).wait(timeout: 20)
        #expect(argv.status == 3 && argv.stderr.contains("visible to other users"), "\(argv.stderr)")
        try fixture.write("token", "0123456789abcdef\n")
        chmod(fixture.path("token"), 0o644)
        let file = try HeraldProcess(["serve", "--listen", "0.0.0.0:0", "--auth-token-file", "token", "--journal", "journal.sqlite"],
                                     in: fixture.folder).wait(timeout: 20)
        #expect(file.status == 3 && file.stderr.contains("readable by other users") && file.stderr.contains("128 bits"),
                "the file's 16 characters were read and judged: \(file.stderr)")
        let missing = try HeraldProcess(["serve", "--auth-token-file", "nothing-here", "--journal", "journal.sqlite"],
                                        in: fixture.folder).wait(timeout: 20)
        #expect(missing.status == 3 && missing.stderr.contains("cannot read the file"), "\(missing.stderr)")
    }

    /// A worker asked to serve that cannot (its port is taken) stops instead of running on
    /// without the server.
    @Test func aWorkerWhoseServerCannotStartStops() async throws {
        let taken = try await LoopbackServer { _ in .respond(status: 200, body: "") }
        let fixture = try CLIFixture()
        let result = try HeraldProcess(["worker", "--receipts-listen", "127.0.0.1:\(taken.port)", "--journal", "journal.sqlite"],
                                       in: fixture.folder).wait(timeout: 30)
        try await taken.shutdown()
        #expect(result.status != 0 && result.status != 128 + SIGKILL, "exits by itself: \(result.status)\n\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
    }
}
