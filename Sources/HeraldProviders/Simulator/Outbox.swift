import HeraldCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulator's delivery record: one JSON line per delivered message, written
/// with a single `write(2)` before the send is acknowledged, so it survives the
/// sending process being killed at any moment.
/// `@unchecked Sendable`: the simulator calls `append` only while holding its mutex,
/// so the descriptor and the date formatter are never used from two threads at once.
final class Outbox: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let timestamp = ISO8601DateFormatter()

    init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        // Full numbers: the folder is made 0700 and the file 0600, whatever the umask.
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { fchmod(fd, 0o600) }
        guard fd >= 0 else {
            throw SimulatorError("\(path): cannot open outbox: \(String(cString: strerror(errno)))")
        }
        timestamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    deinit { close(fd) }

    /// Idempotency keys of the messages already delivered, read from an existing
    /// outbox. A torn last line (power cut) is ignored.
    static func deliveredKeys(path: String) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        struct Line: Decodable { let idempotency_key: String }
        let decoder = JSONDecoder()
        var keys = Set<String>()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let entry = try? decoder.decode(Line.self, from: Data(line)) { keys.insert(entry.idempotency_key) }
        }
        return keys
    }

    func append(_ message: OutboundMessage) throws {
        var line = "{\"ts\":\"\(timestamp.string(from: Date()))\",\"campaign\":"
        JSONEscape.appendQuoted(message.campaign, to: &line)
        line += ",\"destination\":\"\(message.destination.e164)\",\"idempotency_key\":"
        JSONEscape.appendQuoted(message.idempotencyKey, to: &line)
        if message.channel == .sms {
            line += ",\"body\":"
            JSONEscape.appendQuoted(message.body, to: &line)
            // Parts as herald charged them; the encoding as a handset would see it.
            line += ",\"parts\":\(message.parts),\"encoding\":\"\(SMSSegments(body: message.body).encoding.rawValue)\"}\n"
        } else {
            // The rendered content is JSON already (written by herald at import).
            line += ",\"channel\":\"\(message.channel.rawValue)\",\"content\":\(message.body)}\n"
        }
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw SimulatorError("\(path): cannot append to outbox: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        bytes.removeAll()
    }
}

struct SimulatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
