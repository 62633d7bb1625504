import Foundation
import Testing

/// `run --dry-run --sample N` through the binary: a campaign paced at one message a second whose
/// window is closed for everyone still has its sample validated at once; every row is checked
/// offline (a bad row named by its line); nothing is delivered and the campaign's journal is
/// never written.
@Suite struct SampledDryRunCLITests {
    @Test func aSampleIsValidatedAtOnceWhateverTheRateAndWindows() throws {
        let fixture = try CLIFixture()
        var csv = "phone,name,code\n" + CLIFixture.rows(40).map(\.line).joined(separator: "\n") + "\n"
        csv += "+1 202 555 01,Short,C999\n"  // line 42: not a number
        try fixture.write("recipients.csv", csv)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let hour = calendar.component(.hour, from: Date())
        let window = String(format: "{start: \"%02d:00\", end: \"%02d:00\"}", (hour + 3) % 24, (hour + 4) % 24)
        let file = try fixture.campaign("slow", provider: "{kind: simulator, outbox: outbox.jsonl}", extra: """
            rate: {messages_per_second: 1}
            schedule: {window: \(window), timezone: UTC}
            """)
        let started = Date()
        let run = try HeraldProcess.run(["run", file, "--dry-run", "--sample", "5"], in: fixture.folder, timeout: 60)
        let took = Date().timeIntervalSince(started)
        // Paced and windowed, the 40 rows would take hours: the sample goes at once.
        #expect(took < 30, "\(took) s")
        #expect(run.stdout.contains("slow: 41 rows, 40 to send, 1 with problems (bad_number 1)"), "\(run.stdout)")
        #expect(run.stdout.contains("recipients.csv:42"), "\(run.stdout)")
        #expect(run.stdout.contains("dry run of 5 sampled rows (lines "), "\(run.stdout)")
        #expect(run.stdout.contains("5 accepted by the provider, 0 refused"), "\(run.stdout)")
        // A row with a problem: exit 3, as validate.
        #expect(run.status == 3, "\(run.stderr)")
        // Nothing delivered, nothing written to the campaign's journal.
        let outbox = (try? String(contentsOfFile: fixture.path("outbox.jsonl"), encoding: .utf8)) ?? ""
        #expect(outbox.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.path(".herald/journal.sqlite")))
        let refused = try HeraldProcess.run(["run", file, "--sample", "5"], in: fixture.folder)
        #expect(refused.status == 64 && refused.stderr.contains("--sample goes with --dry-run"), "\(refused.stderr)")
    }
}
