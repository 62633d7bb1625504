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
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
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
        JSONText.appendQuoted(message.campaign, to: &line)
        line += ",\"destination\":\"\(message.destination.e164)\",\"idempotency_key\":"
        JSONText.appendQuoted(message.idempotencyKey, to: &line)
        if message.channel == .sms {
            line += ",\"body\":"
            JSONText.appendQuoted(message.body, to: &line)
            line += ",\"parts\":\(message.segments.parts),\"encoding\":\"\(message.segments.encoding.rawValue)\"}\n"
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

/// Minimal JSON string quoting, for lines written on the hot path.
enum JSONText {
    static func appendQuoted(_ text: String, to output: inout String) {
        output.append("\"")
        // Most texts need no escaping: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output.append(text)
            output.append("\"")
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case _ where scalar.value < 0x20:
                output.append(String(format: "\\u%04x", scalar.value))
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }
}
