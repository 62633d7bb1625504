import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The check before sending, through a pseudo-terminal: `herald run` on a terminal shows the
/// rows, cost, limits and sample messages and asks; "n" sends nothing (exit 8), "y" sends.
/// `--yes`, and a run without a terminal, do not ask.
@Suite(.serialized) struct ConfirmationCLITests {
    /// A pseudo-terminal: its master, read and written by the test, and its device's path.
    final class PseudoTerminal {
        let master: Int32
        let device: String
        private var output: [UInt8] = []

        init() throws {
            // posix_openpt opens /dev/ptmx; grantpt, unlockpt and ptsname are looked up by name
            // (Swift's Glibc module leaves them out).
            typealias Call = @convention(c) (Int32) -> Int32
            typealias Name = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
            master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            guard master >= 0, let grant = dlsym(nil, "grantpt"), let unlock = dlsym(nil, "unlockpt"),
                  let nameOf = dlsym(nil, "ptsname"),
                  unsafeBitCast(grant, to: Call.self)(master) == 0, unsafeBitCast(unlock, to: Call.self)(master) == 0,
                  let name = unsafeBitCast(nameOf, to: Name.self)(master)
            else {
                throw POSIXError(.ENODEV)
            }
            device = String(cString: name)
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        }

        deinit { close(master) }

        /// What the process wrote so far (the terminal turns "\n" into "\r\n").
        var text: String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(master, &buffer, buffer.count)
                guard count > 0 else { break }
                output += buffer[0..<count]
            }
            return String(decoding: output, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        }

        /// Waits (without holding a thread) until the output holds `marker`, or the process ends.
        func wait(for marker: String, process: HeraldProcess, seconds: Double = 60) async throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            while !text.contains(marker), process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return text
        }

        func type(_ line: String) {
            let bytes = Array(line.utf8)
            _ = write(master, bytes, bytes.count)
        }
    }

    static let account = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let environment = ["TWILIO_AUTH_TOKEN": "test-auth-token-not-a-secret"]

    final class Sent: Sendable {
        let count = Mutex(0)
        func withLock<T>(_ body: (inout Int) -> T) -> T { count.withLock { body(&$0) } }
    }

    /// A campaign of 3 rows at $0.01 through a loopback Twilio API, and what the API received.
    static func campaign() async throws -> (CLIFixture, LoopbackServer, Sent) {
        let fixture = try CLIFixture()
        let sent = Sent()
        let api = try await LoopbackServer { _ in
            let count = sent.withLock { count -> Int in
                count += 1
                return count
            }
            return .respond(status: 201, body: #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#)
        }
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3).map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("prices.csv", "country,channel,price\nUS,sms,0.01\n")
        _ = try fixture.campaign("tw", provider: "{kind: twilio, endpoint: \"\(api.url)\", account_sid: \(Self.account), from: \"+15550100\"}",
                                 extra: "prices: prices.csv\nbudget: {campaign_limit: 1.00}")
        return (fixture, api, sent)
    }

    @Test(arguments: [false, true])
    func theCheckShowsThePlanAndTheAnswerDecides(_ answer: Bool) async throws {
        let (fixture, api, sent) = try await Self.campaign()
        let terminal = try PseudoTerminal()
        let process = try HeraldProcess(["run", "tw.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                        environment: Self.environment, terminal: terminal.device)
        let shown = try await terminal.wait(for: "[y/N]", process: process)
        #expect(shown.contains("tw: rows 3: 3 to send"), "\(shown)")
        #expect(shown.contains("through twilio: $0.03 for 3 parts"), "\(shown)")
        #expect(shown.contains("campaign_limit $1.00: not reached"), "\(shown)")
        #expect(shown.contains("line 2 +12015550100: Hi Person 0, your code is C000 (1 part, $0.01)"), "\(shown)")
        #expect(shown.contains("Send 3 messages for about $0.03? [y/N]"), "\(shown)")
        // Nothing goes before the answer.
        try await Task.sleep(for: .milliseconds(300))
        #expect(sent.withLock { $0 } == 0)
        terminal.type(answer ? "y\n" : "n\n")
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let result = process.wait(timeout: 5)
        let text = terminal.text
        try await api.shutdown()
        if answer {
            #expect(result.status == 0 && text.contains("3 sent"), "\(text)")
            #expect(sent.withLock { $0 } == 3)
        } else {
            #expect(result.status == 8 && text.contains("nothing sent (answered no"), "\(text)")
            #expect(sent.withLock { $0 } == 0)
            // Nothing was written either: the campaign is not in the journal.
            let status = try HeraldProcess.run(["status", "--journal", "journal.sqlite"], in: fixture.folder)
            #expect(!status.stdout.contains("tw:"), "\(status.stdout)\(status.stderr)")
        }
    }

    @Test func yesAndNoTerminalSendWithoutAsking() async throws {
        let (fixture, api, sent) = try await Self.campaign()
        let terminal = try PseudoTerminal()
        let process = try HeraldProcess(["run", "tw.yaml", "--yes", "--limit", "1", "--journal", "journal.sqlite"], in: fixture.folder,
                                        environment: Self.environment, terminal: terminal.device)
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.wait(timeout: 5).status == 0)
        #expect(!terminal.text.contains("[y/N]") && sent.withLock { $0 } == 1, "\(terminal.text)")
        // No terminal (stdin is /dev/null): no question either.
        let piped = try HeraldProcess.run(["run", "tw.yaml", "--journal", "journal.sqlite"], in: fixture.folder, environment: Self.environment)
        try await api.shutdown()
        #expect(piped.status == 0 && !piped.stderr.contains("[y/N]") && sent.withLock { $0 } == 3, "\(piped.stderr)")
    }
}
