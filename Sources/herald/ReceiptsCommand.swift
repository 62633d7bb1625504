import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldServer
import HeraldJournal
import NIOCore

/// `herald receipts`: delivery receipts in, by HTTP callbacks or from AWS event files.
struct ReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts",
        abstract: "Take delivery receipts: serve the callback endpoint, import AWS event files, manage the token.",
        subcommands: [Serve.self, URLs.self, RotateToken.self, Import.self, Prune.self])

    /// Listening options shared with `herald worker --receipts-listen`.
    struct ServeOptions: ParsableArguments {
        @Option(help: "PEM certificate chain for HTTPS (with --tls-key); else plain HTTP, for loopback or a TLS proxy.")
        var tlsCert: String?
        @Option(help: "PEM private key for HTTPS.") var tlsKey: String?
        @Option(help: "SNS topic ARN whose subscription may be confirmed and whose messages are taken (repeat for several).")
        var snsTopic: [String] = []
        @Option(help: "PEM CA that SNS signing certificates must chain to, besides the https rule (tests, private CAs).")
        var snsTrustCa: [String] = []
        @Option(help: "Seconds a client has to send a whole request; slower clients are dropped.")
        var readTimeout: Int = 10
        @Option(help: "Hours after which a sent message with no final event counts as unknown.")
        var receiptTimeoutHours: Int = 72
        @Option(help: "Reply keywords that put the number on the suppression list, comma-separated (replaces the default list).")
        var stopWords: String?
        @Option(help: "Reply keywords that take it off again, comma-separated (replaces the default list).")
        var startWords: String?

        var keywords: ReplyKeywords {
            func words(_ text: String?, _ fallback: Set<String>) -> Set<String> {
                guard let text else { return fallback }
                return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            }
            return ReplyKeywords(stop: words(stopWords, ReplyKeywords.defaultStop), start: words(startWords, ReplyKeywords.defaultStart))
        }

        @Option(name: .customLong("public-host"),
                help: "A DNS name the dashboard answers to, as browsers reach it (repeat for several). IP addresses and localhost always are; others get 421, so a rebinding page cannot read it.")
        var publicHost: [String] = []

        @Option(name: .customLong("trusted-proxy"),
                help: "IP address of a reverse proxy in front of this server (repeat for several): from it, X-Forwarded-For names the client that wrong tokens count against. From any other peer the header is ignored.")
        var trustedProxy: [String] = []

        func validate() throws {
            for proxy in trustedProxy where !TrustedProxies.isAddress(proxy) {
                throw ValidationError("--trusted-proxy: \(proxy.quoted) is not an IP address")
            }
            guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
            guard readTimeout > 0 else { throw ValidationError("--read-timeout must be at least 1 second") }
            guard receiptTimeoutHours > 0 else { throw ValidationError("--receipt-timeout-hours must be at least 1") }
            let keywords = self.keywords
            guard keywords.stop.isDisjoint(with: keywords.start) else {
                throw ValidationError("--stop-words and --start-words share \(keywords.stop.intersection(keywords.start).sorted().joined(separator: ", "))")
            }
        }

        func options(listen: String) throws -> ReceiptServerOptions {
            var options = ReceiptServerOptions()
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65535).contains(port)
            else { throw ValidationError("--listen: \(listen.quoted) is not HOST:PORT") }
            options.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            options.port = port
            options.tlsCertificate = tlsCert
            options.tlsKey = tlsKey
            options.snsTopics = Set(snsTopic)
            options.snsTrustedCAs = snsTrustCa
            options.readTimeout = .seconds(Int64(readTimeout))
            options.receiptTimeout = .seconds(receiptTimeoutHours * 3600)
            options.publicHosts = publicHost
            options.trustedProxies = TrustedProxies(trustedProxy)
            return options
        }

        /// Serves until SIGTERM/SIGINT; prints the address once listening. `dashboard`
        /// adds the dashboard routes (`herald serve`), behind `authToken` when given.
        func serve(listen: String, journal: String, dashboard: Bool = false, authToken: String? = nil) async throws {
            var options = try options(listen: listen)
            options.dashboard = dashboard
            options.authToken = authToken
            if dashboard, !options.isLoopback, authToken == nil {
                throw ValidationError("--listen \(listen) is not loopback: the dashboard then needs --auth-token (or HERALD_AUTH_TOKEN)")
            }
            let writer = try ReceiptWriter(journalPath: journal, keywords: keywords)
            defer { writer.close() }
            let transport = AsyncHTTPClientTransport(maxConnections: 4)
            let server = try ReceiptServer(journalPath: journal, options: options, writer: writer, transport: transport)
            try await server.run { address in
                // Unbuffered: a supervisor (or a test) waits for this line.
                FileHandle.standardOutput.write(Data("receipts: listening on \(address)\n".utf8))
                if dashboard {
                    let login = authToken == nil ? "" : " (sign in with the token at /login)"
                    FileHandle.standardOutput.write(Data("dashboard: http://\(address)/\(login)\n".utf8))
                }
            }
            await transport.shutdown()
            let totals = writer.recorded
            print("receipts: \(totals.matched) matched, \(totals.unmatched) unmatched, \(totals.settled) in-doubt rows settled, "
                + "\(totals.replies) replies")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the receipt callbacks (POST /receipts/{agile,v5,sns}/TOKEN, GET /healthz) until SIGTERM.")
        @Option(help: "Address to listen on (HOST:PORT; port 0 picks one). Loopback by default.")
        var listen = "127.0.0.1:8787"
        @OptionGroup var serve: ServeOptions
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try await Receipts.perform { try await serve.serve(listen: listen, journal: journal.path) }
        }
    }

    struct URLs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the callback URLs (with the journal's secret token) and remember the base URL.")
        @Option(help: "Public base URL the receiver is reached at (https://...); remembered for v5's callbackURL.")
        var base: String?
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try await Receipts.perform {
                let journal = try JournalOpener.receipts(journal.path)
                if let base {
                    guard let url = URLComponents(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                        throw ValidationError("--base: \(base.quoted) is not an http(s) URL")
                    }
                    try journal.setReceiptSetting("base_url", base.hasSuffix("/") ? String(base.dropLast()) : base)
                }
                guard let root = try journal.receiptSetting("base_url") else {
                    throw ValidationError("no base URL yet: pass --base https://your-host")
                }
                let token = try journal.receiptToken()
                for route in Providers.routes { print("\(route.name): \(root)/receipts/\(route.name)/\(token)") }
            }
        }
    }

    struct RotateToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-token", abstract: "Replace the secret token: URLs with the old one answer 404 from now on.")
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try await Receipts.perform {
                _ = try JournalOpener.receipts(journal.path).rotateReceiptToken()
                print("token replaced; run `herald receipts url` and update each provider's callback URL")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import AWS event records from Firehose/S3 files (JSON per line or concatenated; plain or .gz).")
        @Argument(help: "Event files.") var files: [String]
        @OptionGroup var journal: JournalOptions

        func run() async throws {
            try await Receipts.perform {
                do {
                    let result = try ReceiptImport.run(files: files, journalPath: journal.path)
                    print("\(result.records) records: \(result.recorded.matched) matched, \(result.recorded.unmatched) unmatched, "
                        + "\(result.recorded.settled) in-doubt rows settled"
                        + (result.rejected > 0 ? ", \(result.rejected) rejected" : ""))
                    if result.rejected > 0 {
                        // The good records are recorded; each bad one is named (the first few).
                        for rejection in result.rejections { Terminal.error(rejection) }
                        if result.rejected > result.rejections.count {
                            Terminal.error("... and \(result.rejected - result.rejections.count) more rejected records")
                        }
                        throw ExitCode(ExitStatus.invalidInput.rawValue)
                    }
                } catch let failure as ReceiptImport.Failure {
                    // Batches already committed stay; the rest of that file is not read.
                    throw ValidationError(failure.description)
                }
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop the raw bodies of events older than --days (the events themselves stay).")
        @Option(help: "Keep raw bodies of this many days.") var days: Int = 30
        @OptionGroup var journal: JournalOptions

        func validate() throws { guard days >= 0 else { throw ValidationError("--days must be 0 or more") } }

        func run() async throws {
            try await Receipts.perform {
                let journal = try JournalOpener.receipts(journal.path)
                let pruned = try journal.pruneReceipts(before: journal.currentTime() - Int64(days) * 86_400_000)
                print("\(pruned) raw bodies dropped")
            }
        }
    }
}

enum Receipts {
    static func perform(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ValidationError {
            Terminal.error(error.message)
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        } catch let error as ExitCode {
            throw error
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
