import ArgumentParser
import Foundation
import HeraldJournal
import HeraldEngine
import HeraldServer
import HeraldSQLite

/// The dashboard's token (`serve`, `worker --http`): from `$HERALD_AUTH_TOKEN` or a file;
/// on the command line it works but warns, since other users see it in `ps`. A server on
/// an address other than loopback needs one of at least 128 bits (32 characters: `openssl
/// rand -hex 16`), or herald exits 3 before listening.
struct TokenOptions: ParsableArguments {
    @Option(help: "Dashboard token (visible in `ps`: prefer $HERALD_AUTH_TOKEN or --auth-token-file). At least 16 characters; 32 off loopback.")
    var authToken: String?

    @Option(help: "File holding the dashboard token (first line; keep it 0600).", completion: .file())
    var authTokenFile: String?

    static let minimum = 16
    /// 128 bits as hex digits.
    static let minimumOffLoopback = 32

    /// The token, checked against the address it will guard; nil when none was given.
    func token(listen: String) throws -> String? {
        let token: String?
        if let authToken {
            Terminal.error("warning: --auth-token is visible to other users in `ps`; use $HERALD_AUTH_TOKEN or --auth-token-file")
            token = authToken
        } else if let authTokenFile {
            guard let text = try? String(contentsOfFile: authTokenFile, encoding: .utf8) else {
                throw Self.refuse("--auth-token-file \(authTokenFile): cannot read the file")
            }
            if PrivateFiles.isLoose(authTokenFile) {
                Terminal.error("warning: \(authTokenFile) is readable by other users (\(PrivateFiles.mode(authTokenFile))); chmod 600 it")
            }
            token = text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) }
        } else {
            token = ProcessInfo.processInfo.environment["HERALD_AUTH_TOKEN"]
        }
        let given = token?.isEmpty == false ? token : nil
        let host = Self.host(of: listen)
        if let given, given.count < Self.minimum {
            throw Self.refuse("the dashboard token must be at least \(Self.minimum) characters")
        }
        if !Loopback.contains(host) {
            guard let given else {
                throw Self.refuse("--listen \(listen) is not loopback: the dashboard then needs a token ($HERALD_AUTH_TOKEN or --auth-token-file)")
            }
            guard given.count >= Self.minimumOffLoopback else {
                throw Self.refuse("--listen \(listen) is not loopback: its token needs at least 128 bits (\(Self.minimumOffLoopback) characters, e.g. `openssl rand -hex 16`)")
            }
        }
        return given
    }

    /// The host part of HOST:PORT (`[::1]:8787` too).
    static func host(of listen: String) -> String {
        if listen.hasPrefix("["), let end = listen.firstIndex(of: "]") { return String(listen[listen.index(after: listen.startIndex)..<end]) }
        guard let colon = listen.lastIndex(of: ":") else { return listen }
        return String(listen[..<colon])
    }

    private static func refuse(_ message: String) -> ExitCode {
        Terminal.error(message)
        return ExitCode(ExitStatus.invalidInput.rawValue)
    }
}
