import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `herald` executable as a real child process.
struct HeraldProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// `herald` sits next to the test bundle in the build folder (or HERALD_BIN).
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["HERALD_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("herald")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/herald")
        return fromSource
    }()

    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let collected = Collected()

    /// Pipe contents are drained while the process runs, so a chatty child never blocks.
    final class Collected: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var stdout = Data()
        var stderr = Data()
    }

    init(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "HERALD_JOURNAL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let collected = self.collected
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.lock.withLock { collected.stdout.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.lock.withLock { collected.stderr.append(data) }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to end (killing it after `timeout` seconds).
    func wait(timeout: Double = 120) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        let restOut = out.fileHandleForReading.readDataToEndOfFile()
        let restErr = err.fileHandleForReading.readDataToEndOfFile()
        return collected.lock.withLock {
            Result(status: process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus,
                   stdout: String(decoding: collected.stdout + restOut, as: UTF8.self),
                   stderr: String(decoding: collected.stderr + restErr, as: UTF8.self))
        }
    }

    /// Runs to completion.
    static func run(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Result {
        try HeraldProcess(arguments, in: folder, environment: environment).wait()
    }
}
