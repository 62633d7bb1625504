import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// commands on fd 3, answers on fd 4, each a JSON text ended by a NUL byte): open a page,
/// run JavaScript in it, as a person's clicks would.
final class HeadlessBrowser {
    private let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private var nextID = 0
    private var pending: [UInt8] = []
    private var session: String?

    init(chromium: String) throws {
        var commands: [Int32] = [0, 0], answers: [Int32] = [0, 0]
        guard pipe(&commands) == 0, pipe(&answers) == 0 else { throw BrowserError("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
        posix_spawn_file_actions_adddup2(&actions, answers[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let profile = NSTemporaryDirectory() + "herald-chromium-\(UUID().uuidString)"
        let arguments = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                         "--user-data-dir=\(profile)", "about:blank"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        guard posix_spawn(&child, chromium, &actions, nil, argv, environ) == 0 else { throw BrowserError("spawn failed") }
        pid = child
        close(commands[0])
        close(answers[1])
        toBrowser = commands[1]
        fromBrowser = answers[0]
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(toBrowser)
        close(fromBrowser)
    }

    /// Sends one command and waits for its answer (events in between are dropped).
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], inSession: Bool = true) throws -> [String: Any] {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": params]
        if inSession, let session { message["sessionId"] = session }
        var bytes = Array(try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        guard bytes.withUnsafeBytes({ write(toBrowser, $0.baseAddress, $0.count) }) == bytes.count else {
            throw BrowserError("write to chromium failed")
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let end = pending.firstIndex(of: 0) {
                let text = Data(pending[..<end])
                pending.removeFirst(end + 1)
                if let answer = try JSONSerialization.jsonObject(with: text) as? [String: Any], answer["id"] as? Int == nextID {
                    if let error = answer["error"] { throw BrowserError("\(method): \(error)") }
                    return answer["result"] as? [String: Any] ?? [:]
                }
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            var poller = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let count = read(fromBrowser, &chunk, chunk.count)
            guard count > 0 else { throw BrowserError("chromium closed the pipe") }
            pending += chunk[0..<count]
        }
        throw BrowserError("\(method): no answer in 20 s")
    }

    /// Opens `url` in a new tab and attaches to it.
    func open(_ url: String) throws {
        let target = try send("Target.createTarget", ["url": url], inSession: false)
        guard let id = target["targetId"] as? String else { throw BrowserError("no target") }
        let attached = try send("Target.attachToTarget", ["targetId": id, "flatten": true], inSession: false)
        session = attached["sessionId"] as? String
        try send("Runtime.enable")
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "awaitPromise": true, "returnByValue": true])
        if let exception = result["exceptionDetails"] { throw BrowserError("page script failed: \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression` every 100 ms until it is true (or `seconds` pass).
    func waitUntil(_ expression: String, seconds: Double = 10) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try evaluate(expression) as? Bool == true { return true }
            usleep(100_000)
        }
        return false
    }
}

struct BrowserError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
