import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `herald` executable as a real child process, started with
/// posix_spawn and reaped with waitpid, its output captured in files (no pipe to
/// fill up, nothing left unreaped when the test kills it).
struct HeraldProcess {
    struct Result {
        /// The exit code, or 128 + the signal that killed it.
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// `herald` sits next to the test bundle in the build folder (or HERALD_BIN).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["HERALD_BIN"] { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("herald")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/herald").path
    }()

    let pid: pid_t
    private let outPath: String
    private let errPath: String

    /// `terminal`: a pseudo-terminal's device, opened as its stdin, stdout and stderr (what it
    /// prints is then read from the terminal's master, not from `wait`'s result).
    init(_ arguments: [String], in folder: URL, environment: [String: String] = [:], binary: String = Self.binary,
         terminal: String? = nil) throws {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("herald-out-\(UUID().uuidString)")
        outPath = capture.path + ".stdout"
        errPath = capture.path + ".stderr"
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "HERALD_JOURNAL")
        for (key, value) in environment { env[key] = value }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let terminal {
            for descriptor: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, descriptor, terminal, O_RDWR, 0) }
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        // Nothing else of the test process: herald inherited its loopback servers' listening
        // sockets and connections, so a server the test stopped still took connections (in the
        // child's backlog, never answered) and a dropped connection stayed open.
        // (glibc 2.34+; Swift's Glibc module leaves the _np functions out.)
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        // The shell changes folder then execs herald in its place: same pid.
        let command = ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", folder.path, binary] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, "/bin/sh", &actions, nil, argv, envp)
        guard code == 0 else {
            throw NSError(domain: "HeraldProcess", code: Int(code), userInfo: [NSLocalizedDescriptionKey: "posix_spawn failed: \(code)"])
        }
        pid = child
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Whether the process is still running (not yet ended: a process that ended is a zombie
    /// until `wait` reaps it). Linux: read from /proc.
    var isRunning: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// What the process printed so far (it is still running).
    var stdoutSoFar: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to end, killing it after `timeout` seconds.
    func wait(timeout: Double = 120) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var stacks = ""
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { break }
            if Date() > deadline {
                stacks = Self.threadStacks(of: pid)
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG by hand (macros are not imported).
        let signalled = status & 0x7F
        let exitCode = signalled == 0 ? (status >> 8) & 0xFF : 128 + signalled
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "") + stacks
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        return Result(status: exitCode, stdout: out, stderr: err)
    }

    /// Every thread's stack of a process that did not end in time, for the failure message
    /// (where gdb is installed; empty otherwise): a hung sender says where it waits.
    static func threadStacks(of pid: pid_t) -> String {
        let gdb = "/usr/bin/gdb"
        guard FileManager.default.isExecutableFile(atPath: gdb) else { return "" }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("herald-stacks-\(pid).txt").path
        let command = "timeout 60 \(gdb) -p \(pid) -batch -ex 'thread apply all bt 40' > \(capture) 2>&1"
        _ = system(command)
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let text = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
        return "\n--- threads of the process that did not end (gdb) ---\n" + String(text.suffix(60_000))
    }

    /// Runs to completion.
    static func run(_ arguments: [String], in folder: URL, environment: [String: String] = [:],
                    binary: String = Self.binary, timeout: Double = 120) throws -> Result {
        try HeraldProcess(arguments, in: folder, environment: environment, binary: binary).wait(timeout: timeout)
    }
}
