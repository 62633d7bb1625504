import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What herald writes holds full numbers and tokens: its folder is 0700 and its files 0600
/// whatever the umask, and `doctor` reports (and with --repair tightens) a journal left looser.
@Suite struct FileModeTests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0o7777
    }

    @Test func journalOutboxAndExportsArePrivate() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(20).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "private", provider: "{kind: simulator, outbox: state/outbox.jsonl, receipts: {delivered: 0.9, latency_ms: 1}}")
        let before = umask(0o022)
        defer { umask(before) }
        let run = try HeraldProcess.run(["run", file], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let report = try HeraldProcess.run(["report", "private", "--csv", "out.csv", "--html", "out.html"], in: fixture.folder)
        #expect(report.status == 0, "\(report.stderr)")
        let estimate = try HeraldProcess.run(["estimate", file, "--per-recipient", "each.csv"], in: fixture.folder)
        #expect(estimate.status == 0, "\(estimate.stderr)")
        #expect(try HeraldProcess.run(["suppress", "add", CLIFixture.rows(1)[0].phone], in: fixture.folder).status == 0)
        #expect(try HeraldProcess.run(["suppress", "export", "list.csv"], in: fixture.folder).status == 0)

        #expect(Self.mode(fixture.path(".herald")) == 0o700)
        #expect(Self.mode(fixture.path("state")) == 0o700)
        for name in [".herald/journal.sqlite", "state/outbox.jsonl", "out.csv", "out.html", "each.csv", "list.csv"] {
            #expect(Self.mode(fixture.path(name)) == 0o600, "\(name): \(String(Self.mode(fixture.path(name)), radix: 8))")
        }
        for name in [".herald/journal.sqlite-wal", ".herald/journal.sqlite-shm"] where FileManager.default.fileExists(atPath: fixture.path(name)) {
            #expect(Self.mode(fixture.path(name)) & 0o077 == 0, "\(name)")
        }

        // A journal an older herald left readable: doctor says so, --repair tightens it.
        chmod(fixture.path(".herald"), 0o755)
        chmod(fixture.path(".herald/journal.sqlite"), 0o644)
        let doctor = try HeraldProcess.run(["doctor", "private"], in: fixture.folder)
        #expect(doctor.status == 0 && doctor.stdout.contains("readable by other users (0644)"), "\(doctor.stdout)")
        #expect(Self.mode(fixture.path(".herald/journal.sqlite")) == 0o644, "doctor alone changes nothing")
        let repair = try HeraldProcess.run(["doctor", "private", "--repair"], in: fixture.folder)
        #expect(repair.status == 0 && repair.stdout.contains("now 0600"), "\(repair.stdout)")
        #expect(Self.mode(fixture.path(".herald")) == 0o700 && Self.mode(fixture.path(".herald/journal.sqlite")) == 0o600)
    }
}
