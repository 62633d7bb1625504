import Foundation
import HeraldTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `herald receipts serve` as a real child process on 127.0.0.1 with a port the
/// kernel picks, read back from its "listening on" line.
struct ReceiptServerProcess {
    let process: HeraldProcess
    let port: Int
    let token: String

    /// `worker`: the receipts server inside `herald worker --receipts-listen`.
    /// `dashboard`: `herald serve` (dashboard, reports and receipts).
    init(_ fixture: CLIFixture, arguments: [String] = [], environment: [String: String] = [:], worker: Bool = false,
         dashboard: Bool = false, journal: String = "journal.sqlite") throws {
        let command = worker ? ["worker", "--poll", "0.1", "--receipts-listen"]
            : dashboard ? ["serve", "--listen"] : ["receipts", "serve", "--listen"]
        process = try HeraldProcess(command + ["127.0.0.1:0", "--journal", journal] + arguments,
                                    in: fixture.folder, environment: environment)
        var port: Int?
        for _ in 0..<1000 {
            if let line = process.stdoutSoFar.split(separator: "\n").first(where: { $0.contains("listening on") }),
                let value = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                port = value
                break
            }
            usleep(20_000)
        }
        guard let port else {
            process.signal(SIGKILL)
            let result = process.wait()
            throw NSError(domain: "receipts", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(result.stderr)"])
        }
        self.port = port
        let urls = try HeraldProcess.run(["receipts", "url", "--base", "https://receipts.example", "--journal", journal],
                                         in: fixture.folder, environment: environment)
        guard let agile = urls.stdout.split(separator: "\n").first(where: { $0.hasPrefix("agile: ") }),
            let token = agile.split(separator: "/").last
        else { throw NSError(domain: "receipts", code: 2, userInfo: [NSLocalizedDescriptionKey: urls.stderr]) }
        self.token = String(token)
    }

    func post(_ provider: String, _ body: String, token: String? = nil, query: String = "",
              headers: [(String, String)] = []) -> RawHTTP.Response? {
        RawHTTP.request(port: port, path: "/receipts/\(provider)/\(token ?? self.token)\(query)", body: Array(body.utf8),
                        headers: [("Content-Type", "application/json")] + headers)
    }

    /// SIGTERM, then the exit.
    func stop() -> HeraldProcess.Result {
        process.signal(SIGTERM)
        return process.wait(timeout: 30)
    }
}
