import ArgumentParser
import Foundation

/// `herald serve`: the dashboard, the reports and the receipt routes in one server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the live dashboard (/), reports (/campaigns/ID) and the receipt callbacks until SIGTERM.")

    @Option(help: "Address to listen on (HOST:PORT; port 0 picks one). Loopback by default; any other address needs --auth-token.")
    var listen = "127.0.0.1:8787"

    @Option(help: "Token for the dashboard's Pause/Resume/Cancel (and for every page when set). Default: $HERALD_AUTH_TOKEN.")
    var authToken: String?

    @OptionGroup var serve: ReceiptsCommand.ServeOptions
    @OptionGroup var journal: JournalOptions

    static func token(_ option: String?) -> String? {
        let token = option ?? ProcessInfo.processInfo.environment["HERALD_AUTH_TOKEN"]
        return token?.isEmpty == false ? token : nil
    }

    func validate() throws {
        if let token = Self.token(authToken), token.count < 16 {
            throw ValidationError("--auth-token must be at least 16 characters")
        }
    }

    func run() async throws {
        try await Receipts.perform {
            try await serve.serve(listen: listen, journal: journal.path, dashboard: true, authToken: Self.token(authToken))
        }
    }
}
