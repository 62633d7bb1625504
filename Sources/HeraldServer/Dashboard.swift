import Foundation
import HeraldCore
import HeraldEngine
import HeraldReport
import HeraldJournal
import HeraldSQLite
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import Synchronization

/// The live dashboard: `/` lists the campaigns (refreshed every 2 s by a small inline
/// script from `/api/campaigns`), `/campaigns/ID` is the report, live; downloads of
/// the report page and the recipient CSV; Pause, Resume and Cancel as POSTs that need
/// the server's `--auth-token` in an `X-Herald-Token` header. Nothing shows a full
/// phone number.
final class Dashboard: Sendable {
    let journalPath: String
    /// Needed for actions always, and for every page when set.
    let authToken: String?
    private let samples = Mutex<[String: (at: ContinuousClock.Instant, sent: Int, rate: Double)]>([:])
    /// The last per-provider lines of each campaign and when they were read (nil: one provider).
    /// What takes a pass over a campaign's rows (its per-provider lines, its finish), kept a
    /// while per campaign.
    private let rowPasses = Mutex<[String: (at: ContinuousClock.Instant, lines: [CampaignStatus.ProviderLine]?,
                                                finishesAt: String?)]>([:])

    let metrics: MetricsEndpoint
    /// Downloads made once for all who ask at about the same time.
    private let exports = SharedExports()
    /// The session cookie is `Secure` when the server speaks TLS.
    let secureCookie: Bool

    init(journalPath: String, authToken: String?, metrics: MetricsEndpoint, secureCookie: Bool = false) {
        self.journalPath = journalPath
        self.authToken = authToken
        self.metrics = metrics
        self.secureCookie = secureCookie
    }

    /// One campaign as `/api/campaigns` gives it.
    struct Row: Codable {
        let campaign: String
        /// `real`, `simulation` or `dry_run`: the page lists rehearsals apart.
        let mode: String
        let state: String
        /// What `herald pause`, `resume` and `cancel` can do to it now (the page shows those buttons).
        let actions: [String]
        let total: Int
        let sent: Int
        let failed: Int
        let skipped: Int
        let inDoubt: Int
        let open: Int
        let delivered: Int
        let progress: Double
        /// Messages per second since the previous look (0 when idle).
        let rate: Double
        /// Seconds to the finish: the senders' own ETA (`finishesAt`) when the campaign has a
        /// rate, else what is open at the rate seen.
        let etaSeconds: Int?
        /// When its unsent rows would all be sent at its rate, inside their send windows (ISO 8601).
        let finishesAt: String?
        let spent: String
        let reserved: String
        let campaignLimit: String?
        let monthlyLimit: String?
        let monthSpent: String
        /// Every message state's count, and rows waiting because the provider throttled.
        let counts: [String: Int]
        let throttled: Int
        /// Per provider, for a campaign with several (refreshed every `providerRefresh`).
        let providers: [CampaignStatus.ProviderLine]?
    }

    /// The controls that mean something for a campaign in `state`: a finished one takes none,
    /// a paused one resumes (or is cancelled), anything else may be paused or cancelled.
    static func actions(_ state: CampaignState) -> [String] {
        switch state {
        case .completed, .cancelled: []
        case .paused: ["resume", "cancel"]
        default: ["pause", "cancel"]
        }
    }

    /// How long the per-provider lines of a routed campaign (a pass over its rows) are kept.
    static let providerRefresh: Duration = .seconds(15)

    func register(on router: some RouterMethods<HeraldRequestContext>) {
        router.get("/login") { _, _ in Self.login(status: .ok) }
        router.post("/login") { request, _ in try await self.logIn(request) }
        router.get("/") { request, _ in try self.guarded(request) { try self.page() } }
        router.get("/api/campaigns") { request, _ in try self.guarded(request) { try self.campaignsJSON() } }
        router.get("/metrics") { request, _ in try self.guarded(request) { try self.metrics.scrape(dashboard: self) } }
        router.get("/campaigns/:id") { request, context in
            try self.guarded(request) { try self.report(context.parameters.get("id") ?? "", live: true) }
        }
        router.get("/campaigns/:id/report.html") { request, context in
            try self.guarded(request) {
                var response = try self.report(context.parameters.get("id") ?? "", live: false)
                response.headers[.contentDisposition] = "attachment; filename=\"report.html\""
                return response
            }
        }
        router.get("/campaigns/:id/preview") { request, context in
            let name = context.parameters.get("id") ?? ""
            // Reading the CSV takes a while: off the event loop, on the concurrency pool.
            return try await self.guardedAsync(request) { try await Task.detached { try self.preview(name) }.value }
        }
        router.get("/campaigns/:id/recipients.csv") { request, context in
            guard self.allowed(request) else { return self.refused(request) }
            return try await self.recipients(context.parameters.get("id") ?? "", channel: context.channel)
        }
        for action in ["pause", "resume", "cancel"] {
            router.post("/campaigns/:id/\(action)") { request, context in
                try self.act(action, campaign: context.parameters.get("id") ?? "", request: request)
            }
        }
    }

    // MARK: Access

    /// With a token, every page needs it: an `Authorization: Bearer` or `X-Herald-Token`
    /// header, or the cookie `/login` sets. Never in a URL (`?token=` ends up in histories,
    /// proxies' logs and Referer headers): only provider callbacks carry theirs in the path,
    /// because providers cannot send headers. A page asked for without it gets the login form.
    private func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        guard allowed(request) else { return refused(request) }
        return try body()
    }

    private func guardedAsync(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        guard allowed(request) else { return refused(request) }
        return try await body()
    }

    /// Whether the request may see the dashboard: no token is set, or it presents the token.
    private func allowed(_ request: Request) -> Bool {
        guard let authToken else { return true }
        guard let presented = Self.presentedToken(request) else { return false }
        return ReceiptServer.constantTimeEqual(presented, authToken)
    }

    /// 401: the login form for pages, a line of text for the rest.
    private func refused(_ request: Request) -> Response {
        let path = request.uri.path
        if path == "/" || (path.hasPrefix("/campaigns/") && !path.hasSuffix(".csv")) { return Self.login(status: .unauthorized) }
        return ReceiptServer.text(.unauthorized, "this dashboard needs its token: log in at /login, or send it as a Bearer token")
    }

    /// `POST /login` with the token as a form field: sets the session cookie and goes to `/`.
    private func logIn(_ request: Request) async throws -> Response {
        guard let authToken else { return Response(status: .seeOther, headers: [.location: "/"]) }
        let body = try await request.body.collect(upTo: 4096)
        let form = String(buffer: body)
        let token = form.split(separator: "&").lazy.compactMap { pair -> String? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "token" else { return nil }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }.first
        guard let token, ReceiptServer.constantTimeEqual(token, authToken) else { return Self.login(status: .unauthorized) }
        let cookie = "herald_token=\(authToken); Path=/; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
        return Response(status: .seeOther, headers: [.location: "/", .setCookie: cookie])
    }

    /// The login form: one field, posted to `/login`.
    static func login(status: HTTPResponse.Status) -> Response {
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Herald: log in</title>
            <style>body{font:16px system-ui,sans-serif;margin:3rem auto;max-width:28rem}input{font:inherit;padding:.3rem}</style>
            </head><body><h1>Herald</h1>
            \(status == .unauthorized ? "<p>This dashboard needs its token.</p>" : "")
            <form method="post" action="/login"><label>Token <input id="login-token" name="token" type="password" autocomplete="current-password" required></label>
            <button type="submit">Log in</button></form></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private static func presentedToken(_ request: Request) -> String? {
        if let header = request.headers[HTTPField.Name("X-Herald-Token")!] { return header }
        if let bearer = request.headers[.authorization], bearer.hasPrefix("Bearer ") { return String(bearer.dropFirst(7)) }
        for part in (request.headers[.cookie] ?? "").split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix("herald_token=") { return String(pair.dropFirst("herald_token=".count)) }
        }
        return nil
    }

    // MARK: Pages

    /// The page, its one inline script allowed by a nonce made for this answer.
    private func page() throws -> Response {
        let nonce = Self.nonce()
        let html = try MustacheTemplate(string: DashboardTemplate.page).render(["actions": authToken != nil, "nonce": nonce])
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8",
                                               .contentSecurityPolicy: DashboardGuard.policy(script: nonce)],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A time `CampaignStatus` wrote (ISO 8601, UTC, whole seconds).
    static func date(_ text: String) -> Date? { ISO8601DateFormatter().date(from: text) }

    /// 128 random bits, base64.
    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    func rows() throws -> [Row] {
        guard JournalOpener.exists(journalPath) else { return [] }
        let now = ContinuousClock.now
        let stale = rowPasses.withLock { lines in
            Set(lines.filter { $0.value.at.duration(to: now) >= Self.providerRefresh }.keys)
        }
        let known = rowPasses.withLock { Set($0.keys) }
        let statuses = try CampaignStatus.load(journalPath: journalPath, id: nil) { name in
            !known.contains(name) || stale.contains(name)
        }
        rowPasses.withLock { lines in
            for status in statuses where !known.contains(status.campaign) || stale.contains(status.campaign) {
                lines[status.campaign] = (now, status.providers, status.finishesAt)
            }
        }
        return statuses.map { status in
            let sent = status.counts["sent"] ?? 0
            let open = (status.counts["pending"] ?? 0) + (status.counts["retry"] ?? 0) + (status.counts["sending"] ?? 0)
            let rate = samples.withLock { samples -> Double in
                guard let previous = samples[status.campaign] else {
                    samples[status.campaign] = (now, sent, 0)
                    return 0
                }
                let elapsed = previous.at.duration(to: now)
                let seconds = elapsed.seconds
                guard seconds >= 1 else { return previous.rate }
                let rate = max(0, Double(sent - previous.sent) / seconds)
                samples[status.campaign] = (now, sent, rate)
                return rate
            }
            let done = status.total - open
            // Rate and ETA only while it sends: a paused row kept showing its last rate.
            let sending = status.state == CampaignState.running.rawValue
            let finish = sending ? rowPasses.withLock { $0[status.campaign]?.finishesAt } : nil
            let eta: Int? = if let at = finish.flatMap(Self.date) {
                Int(max(0, at.timeIntervalSinceNow).rounded())
            } else if sending && rate > 0 && open > 0 {
                Int(Double(open) / rate)
            } else {
                nil
            }
            return Row(
                campaign: status.campaign, mode: status.mode, state: status.state,
                actions: CampaignState(rawValue: status.state).map(Self.actions) ?? [], total: status.total, sent: sent,
                failed: status.counts["failed"] ?? 0, skipped: status.counts["skipped"] ?? 0,
                inDoubt: status.counts["in_doubt"] ?? 0, open: open, delivered: status.delivery.delivered,
                progress: status.total == 0 ? 0 : Double(done) / Double(status.total), rate: sending ? (rate * 10).rounded() / 10 : 0,
                etaSeconds: open > 0 ? eta : nil, finishesAt: open > 0 ? finish : nil,
                spent: status.spend.spent.description, reserved: status.spend.reserved.description,
                campaignLimit: status.spend.campaignLimit?.description, monthlyLimit: status.spend.monthlyLimit?.description,
                monthSpent: status.spend.monthSpent.description, counts: status.counts,
                throttled: status.waiting["throttled"] ?? 0,
                providers: rowPasses.withLock { $0[status.campaign]?.lines })
        }
    }

    private func campaignsJSON() throws -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(["campaigns": try rows()])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func record(_ name: String) throws -> (any ReportingJournal, CampaignRecord)? {
        guard JournalOpener.exists(journalPath) else { return nil }
        let journal = try JournalOpener.reporting(journalPath)
        let key = CampaignKey(parsing: name)
        return try journal.campaign(id: key.id, mode: key.mode).map { (journal, $0) }
    }

    /// What `herald preview --html` draws, for a campaign in the journal (a scheduled one most of
    /// all): a sample covering each country, provider, language and encoding, from its campaign file.
    private func preview(_ name: String) throws -> Response {
        guard let (_, record) = try record(name) else { return Response(status: .notFound) }
        let plan: CampaignPlan
        do {
            plan = try CampaignPlan.load(campaignPath: record.campaignPath)
        } catch {
            return ReceiptServer.text(.conflict, "the campaign file cannot be read: \(error)")
        }
        let preview = try plan.preview(lines: nil, sample: 12, journalPath: journalPath)
        var html = try PreviewPage.html(preview)
        html = html.replacingOccurrences(of: "<body>", with: "<body>\n<p><a id=\"back\" href=\"/\">← all campaigns</a></p>")
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private func report(_ name: String, live: Bool) throws -> Response {
        guard let (journal, record) = try record(name) else { return Response(status: .notFound) }
        let started = ContinuousClock.now
        let facts = record.fileFacts
        let report = try CampaignReport.load(journal: journal, record: record, provider: facts.providerName,
                                             routes: facts.routeNames, languages: facts.languageCodes)
        var html = try ReportPage.html(report)
        // Served beside the list: a way back to it.
        html = html.replacingOccurrences(of: "<body>", with: "<body>\n<p><a id=\"back\" href=\"/\">← all campaigns</a></p>")
        if live {
            // The report, live: the page reloads itself every 2 s, or less often when the
            // report takes long to make (a pass over millions of rows), so that making it
            // never takes more than a third of the server's time.
            let took = started.duration(to: .now).components.seconds
            let every = max(2, Int(took) * 3 + 1)
            html = html.replacingOccurrences(of: "<meta charset=\"utf-8\">",
                                             with: "<meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"\(every)\">")
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The CSV (masked), made once for all who ask within 10 s (`SharedExports`) into a file
    /// whose name is removed as soon as it is written, then sent in 64 KiB chunks, each waiting
    /// until the client took the previous one: memory stays flat however many clients read and
    /// however slowly, and nothing is left on disk when a client goes away or the server dies.
    private func recipients(_ name: String, channel: any NIOCore.Channel) async throws -> Response {
        // The campaign is looked up inside the shared making too: 200 clients asking at once
        // open the journal once, not 200 times on the threads that answer everyone else.
        let journalPath = journalPath
        let file: ExportFile
        do {
            file = try await exports.file("recipients-\(name)") { path in
                guard JournalOpener.exists(journalPath) else { throw ExportError.noSuchCampaign }
                let journal = try JournalOpener.reporting(journalPath)
                let key = CampaignKey(parsing: name)
                guard let record = try journal.campaign(id: key.id, mode: key.mode) else { throw ExportError.noSuchCampaign }
                let facts = record.fileFacts
                _ = try RecipientCSV.write(journal: journal, cid: record.cid, to: path, routes: facts.routeNames.map(\.name),
                                           languages: !facts.languageCodes.isEmpty)
            }
        } catch ExportError.noSuchCampaign {
            return Response(status: .notFound)
        }
        // The kernel's send buffer grows to megabytes on a fast link: a few hundred downloads
        // starting together would spend the event loops copying gigabytes into them while
        // every other client waits. 256 KiB each is plenty to keep a reader busy.
        try? await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: 1 << 18)
        let body = ResponseBody { writer in
            var offset = 0
            while offset < file.size {
                let chunk = file.read(at: offset, count: 1 << 16)
                if chunk.isEmpty { break }
                offset += chunk.count
                try await writer.write(ByteBuffer(bytes: chunk))
                try await Self.drained(channel)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentLength: String(file.size),
                                               .contentDisposition: "attachment; filename=\"recipients.csv\""], body: body)
    }

    /// Waits until the connection has taken what was written to it. A write is handed to the
    /// event loop and returns at once, so a fast producer could queue a whole file before the
    /// channel says it is full: first let the loop take the write, then wait while the
    /// channel is over its high-water mark (polled, from 5 ms up to 100 ms apart).
    static func drained(_ channel: any NIOCore.Channel) async throws {
        try await channel.eventLoop.submit {}.get()
        var pause = 5
        while !channel.isWritable, channel.isActive {
            // The connection's own event loop keeps the timer: a few hundred slow readers
            // are a few hundred entries in its heap, not dispatch timers.
            try await channel.eventLoop.scheduleTask(in: .milliseconds(Int64(pause))) {}.futureResult.get()
            pause = min(100, pause * 2)
        }
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
    }

    // MARK: Actions

    private func act(_ action: String, campaign name: String, request: Request) throws -> Response {
        guard let authToken else {
            return ReceiptServer.text(.forbidden, "actions need the server's --auth-token")
        }
        guard let presented = request.headers[HTTPField.Name("X-Herald-Token")!],
            ReceiptServer.constantTimeEqual(presented, authToken)
        else { return ReceiptServer.text(.forbidden, "wrong or missing X-Herald-Token") }
        let key = CampaignKey(parsing: name)
        let journal = try JournalOpener.open(journalPath, create: false)
        let done: Bool
        switch action {
        case "pause": done = try journal.request(.pause, campaign: key.id, mode: key.mode)
        case "cancel": done = try journal.request(.cancel, campaign: key.id, mode: key.mode)
        default: done = try journal.resumeForWorker(id: key.id, mode: key.mode)
        }
        guard done else {
            return ReceiptServer.text(action == "resume" ? .conflict : .notFound,
                                      action == "resume" ? "only a paused campaign nobody is sending can be resumed" : "no such campaign")
        }
        return ReceiptServer.text(.ok, "\(action): \(name)")
    }
}
