import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A finished export held open after its name was removed: the bytes stay readable through the
/// descriptor until the last reader lets go, and nothing is left on disk whatever happens to the
/// server. Each reader keeps its own offset (`pread`).
final class ExportFile: Sendable {
    let descriptor: Int32
    let size: Int

    /// Opens `path` and removes its name at once.
    init(takingOver path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        unlink(path)
        guard descriptor >= 0 else { throw ExportError.unreadable(String(cString: strerror(errno))) }
        var info = stat()
        size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes from `offset`; empty at the end.
    func read(at offset: Int, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        return got > 0 ? Array(bytes.prefix(got)) : []
    }
}

enum ExportError: Error, CustomStringConvertible {
    case noSuchCampaign
    case unreadable(String)

    var description: String {
        switch self {
        case .noSuchCampaign: "no such campaign"
        case .unreadable(let reason): "cannot read the export back: \(reason)"
        }
    }
}

/// Exports made once and shared: requests for the same export within `freshFor` of its making
/// (or while it is being made) get the same file, so 200 downloads of a 1M-row campaign make
/// it once, not 200 times. Making runs on NIO's thread pool, off the event loops and the
/// cooperative pool, so the server keeps answering while it runs.
actor SharedExports {
    let freshFor: Duration
    private var made: [String: (file: ExportFile, at: ContinuousClock.Instant)] = [:]
    private var making: [String: Task<ExportFile, any Error>] = [:]

    init(freshFor: Duration = .seconds(10)) { self.freshFor = freshFor }

    /// The export named `key`, made by `write(path)` when none fresh is at hand.
    func file(_ key: String, write: @escaping @Sendable (String) throws -> Void) async throws -> ExportFile {
        let now = ContinuousClock.now
        made = made.filter { $0.value.at.duration(to: now) < freshFor }
        if let fresh = made[key] { return fresh.file }
        if let running = making[key] { return try await running.value }
        let task = Task<ExportFile, any Error> {
            try await NIOThreadPool.singleton.runIfActive {
                let path = NSTemporaryDirectory() + "herald-export-\(UUID().uuidString)"
                do {
                    try write(path)
                } catch {
                    unlink(path)
                    throw error
                }
                return try ExportFile(takingOver: path)
            }
        }
        making[key] = task
        defer { making[key] = nil }
        let file = try await task.value
        made[key] = (file, ContinuousClock.now)
        return file
    }
}
