import Foundation
import HeraldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `herald serve` against a campaign another `herald` process is sending: the JSON
/// behind the dashboard, its page rendered by headless Chromium (script included),
/// and Pause / Resume / Cancel as the page's buttons send them, guarded by the token.
@Suite(.serialized) struct DashboardTests {
    static let token = "test-token-0123456789"

    func get(_ server: ReceiptServerProcess, _ path: String, token: String? = Self.token) -> RawHTTP.Response? {
        RawHTTP.request(port: server.port, method: "GET", path: path, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    func post(_ server: ReceiptServerProcess, _ path: String, token: String? = Self.token) -> RawHTTP.Response? {
        RawHTTP.request(port: server.port, path: path, headers: token.map { [("X-Herald-Token", $0)] } ?? [])
    }

    func campaigns(_ server: ReceiptServerProcess) throws -> [[String: Any]] {
        let body = try #require(get(server, "/api/campaigns")?.body)
        return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["campaigns"] as? [[String: Any]] ?? []
    }

    /// Logs the browser in through the form, as a person does.
    func logIn(_ browser: HeadlessBrowser, _ server: ReceiptServerProcess) throws {
        try browser.open("http://127.0.0.1:\(server.port)/login")
        #expect(try browser.waitUntil("document.getElementById('login-token') !== null"))
        _ = try browser.evaluate("""
            (() => { document.getElementById('login-token').value = '\(Self.token)';
              document.querySelector('form').submit(); return true; })()
            """)
        #expect(try browser.waitUntil("document.getElementById('campaigns') !== null"), "the dashboard after logging in")
    }

    @Test func theDashboardShowsARunningCampaignAndItsButtonsPauseResumeAndCancelIt() throws {
        let fixture = try CLIFixture()
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(3000).map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign("live", provider: "{kind: simulator, receipts: {delivered: 0.97, undelivered: 0.03, latency_ms: 5}}",
                                        extra: "rate: {messages_per_second: 300, max_in_flight: 8}")
        // A rehearsal first: the page lists it apart from real campaigns.
        let rehearsal = try fixture.campaign("rehearse", provider: "{kind: simulator}")
        #expect(try HeraldProcess.run(["run", rehearsal, "--dry-run", "--journal", "journal.sqlite"], in: fixture.folder).status == 0)
        let sender = try HeraldProcess(["run", file, "--journal", "journal.sqlite"], in: fixture.folder)
        let server = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token], dashboard: true)
        defer { _ = server.stop() }
        #expect(server.process.stdoutSoFar.contains("dashboard: http://127.0.0.1:\(server.port)/ (sign in with the token at /login)"),
                "herald serve says where the dashboard is: \(server.process.stdoutSoFar)")
        // Running: the JSON moves.
        var rows: [[String: Any]] = []
        func liveRow() throws -> [String: Any]? { try campaigns(server).first { $0["campaign"] as? String == "live" } }
        for _ in 0..<200 {
            rows = try campaigns(server).filter { $0["campaign"] as? String == "live" }
            if rows.first?["state"] as? String == "running", (rows.first?["sent"] as? Int ?? 0) > 50 { break }
            // A sender that ended early says why, instead of a page with no row to click.
            if !sender.isRunning {
                let ended = sender.wait(timeout: 1)
                Issue.record("the sender ended before the dashboard saw it send: exit \(ended.status)\n\(ended.stdout)\n\(ended.stderr)")
                return
            }
            usleep(50_000)
        }
        #expect(rows.first?["campaign"] as? String == "live" && rows.first?["state"] as? String == "running",
                "\(rows); the server said: \(get(server, "/api/campaigns").map { "\($0.status) \($0.body.prefix(300))" } ?? "nothing")")
        #expect((rows.first?["progress"] as? Double ?? 0) > 0 && rows.first?["total"] as? Int == 3000)
        // Every page needs the token (never in the URL: the login form sets a cookie).
        #expect(get(server, "/", token: nil)?.status == 401 && get(server, "/api/campaigns", token: "wrong")?.status == 401)
        #expect(get(server, "/?token=\(Self.token)", token: nil)?.status == 401)
        // The page, as a browser runs it after logging in: its script fills the table from the
        // JSON (under the page's content security policy).
        let chromium = try #require(ReportTests.chromium, "headless Chromium is needed (.ci/run installs it)")
        let browser = try HeadlessBrowser(chromium: chromium)
        try logIn(browser, server)
        #expect(try browser.waitUntil("document.querySelector('tr[data-campaign=\"live\"] progress') !== null"),
                "the campaign row is rendered")
        // Only the buttons its state allows: a running campaign pauses or cancels.
        for (button, shown) in [("pause", true), ("resume", false), ("cancel", true)] {
            #expect(try browser.evaluate("document.querySelector('tr[data-campaign=\"live\"] button.\(button)') !== null") as? Bool == shown,
                    "a \(button) button \(shown ? "" : "not ")shown while running")
        }
        // The dry run sits under Rehearsals, not among real campaigns.
        #expect(try browser.waitUntil("document.querySelector('#rehearsal-campaigns tr[data-campaign=\"rehearse@dry-run\"]') !== null"
            + " && document.querySelector('#campaigns tr[data-campaign=\"rehearse@dry-run\"]') === null"
            + " && !document.getElementById('rehearsals').hidden"), "the dry run is listed as a rehearsal")
        // Without the token, or with a wrong one, actions are refused.
        #expect(post(server, "/campaigns/live/pause", token: nil)?.status == 403)
        #expect(post(server, "/campaigns/live/pause", token: "wrong-token-0000000")?.status == 403)
        // A person's pause: in headless Chromium, type the token and click the row's Pause.
        #expect(try browser.waitUntil("document.querySelector('tr[data-campaign=\"live\"] button.pause') !== null"))
        _ = try browser.evaluate("""
            (() => { const field = document.getElementById('token'); field.value = '\(Self.token)';
              field.dispatchEvent(new Event('change'));
              document.querySelector('tr[data-campaign="live"] button.pause').click(); return true; })()
            """)
        #expect(try browser.waitUntil("document.getElementById('action').textContent.startsWith('pause live: pause')"),
                "the page reports the pause")
        let paused = sender.wait(timeout: 30)
        #expect(paused.status == 8, "the sender stops paused: \(paused.stdout)\n\(paused.stderr)")
        #expect(try liveRow()?["state"] as? String == "paused")
        // Paused: Resume and Cancel, no rate or ETA. Cancel asks first; declined, nothing happens.
        #expect(try browser.waitUntil("document.querySelector('tr[data-campaign=\"live\"] button.resume') !== null"
            + " && document.querySelector('tr[data-campaign=\"live\"] button.pause') === null"
            + " && document.querySelector('tr[data-campaign=\"live\"]').children[5].textContent === '–'"), "a paused row")
        _ = try browser.evaluate("""
            (() => { window.confirm = () => false;
              document.querySelector('tr[data-campaign="live"] button.cancel').click(); return true; })()
            """)
        usleep(300_000)
        #expect(try liveRow()?["state"] as? String == "paused", "a declined cancel changes nothing")
        // Resume hands it to a worker; cancel ends it.
        #expect(post(server, "/campaigns/live/resume")?.status == 200)
        #expect(try liveRow()?["state"] as? String == "scheduled")
        #expect(post(server, "/campaigns/live/cancel")?.status == 200)
        #expect(try liveRow()?["state"] as? String == "cancelled")
        #expect(try liveRow()?["actions"] as? [String] == [], "a cancelled campaign takes no action")
        #expect(try browser.waitUntil("document.querySelector('tr[data-campaign=\"live\"] button') === null"), "no buttons once cancelled")
        #expect(post(server, "/campaigns/nobody/pause")?.status == 404)
        // Downloads: the report page and the recipients, masked.
        let report = try #require(get(server, "/campaigns/live/report.html"))
        #expect(report.status == 200 && report.body.contains("id=\"funnel-title\""))
        let live = try #require(get(server, "/campaigns/live"))
        #expect(live.body.contains("http-equiv=\"refresh\""), "the live report reloads itself")
        #expect(live.body.contains("<a id=\"back\" href=\"/\">"), "and links back to the list")
        let csv = try #require(get(server, "/campaigns/live/recipients.csv"))
        #expect(csv.status == 200 && csv.body.contains("2,+1******0100,US,") && !csv.body.contains("2015550100"))
        // Prometheus: counters read from the journal, receipts taken, HTTP durations; token-guarded.
        #expect(server.post("agile", #"{"eventType":"DELIVERY","messageId":"m-1","statusCode":3}"#)?.status == 204)
        #expect(get(server, "/metrics", token: nil)?.status == 401)
        let metrics = try #require(get(server, "/metrics")?.body)
        #expect(metrics.contains("herald_messages{campaign=\"live\",state=\"sent\"}"), "\(metrics.prefix(500))")
        #expect(metrics.contains("herald_receipts_total{provider=\"agile\",type=\"DELIVERY\"} 1"))
        // Made-up types are counted as `other`: /metrics does not grow with them (finding 6).
        for index in 0..<20 {
            #expect(server.post("v5", #"{"messageGUID":"g-\#(index)","status":"made-up-\#(index)"}"#)?.status == 204)
        }
        #expect(server.post("agile", #"{"eventType":"\u001b[2J","messageId":"m-1"}"#)?.status == 204)
        let bounded = try #require(get(server, "/metrics")?.body)
        #expect(bounded.contains("herald_receipts_total{provider=\"v5\",type=\"other\"} 20"), "\(bounded.prefix(2000))")
        #expect(bounded.contains("herald_receipts_total{provider=\"agile\",type=\"other\"} 1"))
        #expect(!bounded.contains("made-up") && !bounded.contains("\u{1B}"))
        #expect(metrics.contains("herald_spent_usd{campaign=\"live\"}") && metrics.contains("herald_send_rate_messages_per_second"))
        #expect(metrics.contains("http_server_request_duration_seconds_bucket") && !metrics.contains(server.token), "no token in labels")
        // Prometheus' own linter: every family named as it asks, with HELP text.
        let promtool = try #require(["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "promtool is needed (.ci/run installs Debian's prometheus)")
        let lint = try Self.run(promtool, ["check", "metrics"], input: bounded)
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics: \(lint.output)")
    }

    /// Recipients waiting for their window: the dashboard's ETA is the senders' own (the rows at
    /// the campaign's rate, each zone inside its window), as `herald status` gives it. It was the
    /// open rows over the rate seen: none at all while they waited, minutes where hours are true.
    @Test func theETAWaitsForTheWindowAsTheSenderDoes() throws {
        let began = Date()
        func utcClock(_ minutes: Int) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.hour, .minute], from: began.addingTimeInterval(Double(minutes) * 60))
            return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        }
        // The window opens in 110 minutes UTC: open now for UTC+2, closed for UTC.
        let fixture = try CLIFixture()
        let lines = CLIFixture.rows(60).enumerated().map { $0.element.line + "," + ($0.offset % 2 == 0 ? "UTC" : "Etc/GMT-2") }
        try fixture.write("recipients.csv", "phone,name,code,tz\n" + lines.joined(separator: "\n") + "\n")
        let file = try fixture.campaign("windowed", extra: """
            timezone_column: tz
            schedule: {window: {start: "\(utcClock(110))", end: "\(utcClock(170))"}, timezone: recipient}
            rate: {messages_per_second: 20}
            """)
        let sender = try HeraldProcess(["run", file, "--journal", "journal.sqlite"], in: fixture.folder)
        defer {
            sender.signal(SIGKILL)
            _ = sender.wait(timeout: 10)
        }
        let server = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token], dashboard: true)
        defer { _ = server.stop() }
        var row: [String: Any]?
        for _ in 0..<400 {
            row = try campaigns(server).first { $0["campaign"] as? String == "windowed" }
            if row?["sent"] as? Int == 30, row?["state"] as? String == "running" { break }
            usleep(50_000)
        }
        #expect(row?["sent"] as? Int == 30 && row?["state"] as? String == "running", "the open zone sent, the other waiting: \(row ?? [:])")
        // 30 rows at 20 a second from the opening (which dropped the seconds of "HH:MM").
        let iso = ISO8601DateFormatter()
        let finish = try #require((row?["finishes_at"] as? String).flatMap { iso.date(from: $0) }, "\(row ?? [:])")
        #expect(abs(finish.timeIntervalSince(began) - (110 * 60 + 1.5)) < 62, "\(finish) from \(began)")
        let eta = try #require(row?["eta_seconds"] as? Int)
        #expect(abs(Double(eta) - finish.timeIntervalSinceNow) < 3, "the ETA counts to the finish: \(eta)")
        // `herald status` says the same.
        let status = try HeraldProcess.run(["status", "windowed", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let told = try #require((json?["finishes_at"] as? String).flatMap { iso.date(from: $0) }, "\(status.stdout)\(status.stderr)")
        #expect(abs(told.timeIntervalSince(finish)) < 2)
        let text = try HeraldProcess.run(["status", "windowed", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(text.stdout.contains("finishes: \(iso.string(from: told)) at its rate"), "\(text.stdout)")
        // The page shows the hours left and the finish time.
        let chromium = try #require(ReportTests.chromium, "headless Chromium is needed (.ci/run installs it)")
        let browser = try HeadlessBrowser(chromium: chromium)
        try logIn(browser, server)
        // Its day too when that is not today (UTC).
        let stamp = iso.string(from: finish)
        let day = stamp.prefix(10) == iso.string(from: Date()).prefix(10) ? "" : stamp.prefix(10) + " "
        let clock = day + stamp.dropFirst(11).prefix(5)
        let cell = "(document.querySelector('tr[data-campaign=\"windowed\"] td.eta') || {}).textContent"
        let shown = try browser.waitUntil("\(cell) === '\(String(format: "%.1f", Double(eta) / 3600)) h · \(clock)Z'")
        let seen = try browser.evaluate(cell)
        #expect(shown, "\(String(describing: seen))")
    }

    /// A scheduled campaign's preview at /campaigns/ID/preview: the sample `herald preview --html`
    /// draws (each language, skipped rows with why), behind the token, linked from its row,
    /// rendered in Chromium.
    @Test func aScheduledCampaignsPreview() throws {
        let fixture = try ShippedExamplesTests().copy()
        let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
        let scheduled = try HeraldProcess.run(["schedule", "campaigns/reminder.yaml", "--at", at, "--journal", "journal.sqlite"],
                                              in: fixture.folder)
        #expect(scheduled.status == 0, "\(scheduled.stderr)")
        let server = try ReceiptServerProcess(fixture, arguments: ["--auth-token", Self.token], dashboard: true)
        defer { _ = server.stop() }
        let page = try #require(get(server, "/campaigns/reminder/preview"))
        #expect(page.status == 200, "\(page.body.prefix(300))")
        #expect(page.body.contains("Hola Lucía") && page.body.contains("· in es") && page.body.contains("· in en"), "\(page.body.prefix(2000))")
        #expect(page.body.contains("filtered"), "the rows where: leaves out, with why")
        #expect(get(server, "/campaigns/reminder/preview", token: nil)?.status == 401)
        #expect(get(server, "/campaigns/nothing/preview")?.status == 404)
        let chromium = try #require(ReportTests.chromium, "headless Chromium is needed (.ci/run installs it)")
        let browser = try HeadlessBrowser(chromium: chromium)
        try logIn(browser, server)
        #expect(try browser.waitUntil("document.querySelector('tr[data-campaign=\"reminder\"] a.preview') !== null"),
                "a scheduled campaign's row links its preview")
        try browser.open("http://127.0.0.1:\(server.port)/campaigns/reminder/preview")
        #expect(try browser.waitUntil("document.querySelectorAll('.bubble').length >= 5"), "the messages drawn as bubbles")
    }

    @Test func aNonLoopbackDashboardNeedsAToken() throws {
        let fixture = try CLIFixture()
        let result = try HeraldProcess.run(["serve", "--listen", "0.0.0.0:0", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(result.status == 3 && result.stderr.contains("--auth-token"), "\(result.stderr)")
        let actions = try ReceiptServerProcess(fixture, dashboard: true)
        defer { _ = actions.stop() }
        #expect(post(actions, "/campaigns/x/pause")?.status == 403, "no token configured: no actions")
        #expect(get(actions, "/", token: nil)?.status == 200, "loopback without a token: pages are open")
    }

    /// Runs `path` with `input` on its standard input; its exit status and what it printed.
    static func run(_ path: String, _ arguments: [String], input: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
