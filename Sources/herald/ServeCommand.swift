import ArgumentParser
import Foundation

/// `herald serve`: the dashboard, the reports and the receipt routes in one server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the live dashboard (/), reports (/campaigns/ID) and the receipt callbacks until SIGTERM.")

    @Option(help: "Address to listen on (HOST:PORT; port 0 picks one). Loopback by default; any other address needs a token of 128 bits.")
    var listen = "127.0.0.1:8787"

    /// The token for the dashboard's Pause/Resume/Cancel (and for every page when set).
    @OptionGroup var token: TokenOptions

    @OptionGroup var serve: ReceiptsCommand.ServeOptions
    @OptionGroup var journal: JournalOptions

    func run() async throws {
        let authToken = try token.token(listen: listen)
        try await Receipts.perform {
            try await serve.serve(listen: listen, journal: journal.path, dashboard: true, authToken: authToken)
        }
    }
}
