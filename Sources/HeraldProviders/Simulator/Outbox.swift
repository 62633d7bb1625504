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
///
/// It is also the simulator's memory of idempotency keys, shared by every process that
/// sends to the same file, as a real provider's is shared by every client: each delivery
/// takes an exclusive `flock`, reads what other processes appended since its last look,
/// and appends only a key none of them delivered. (A sender frozen with a request on the
/// wire and the sender that took its rows over both reach the provider once between them.)
/// `@unchecked Sendable`: the simulator calls `deliver` only while holding its mutex,
/// so the descriptor, the keys and the date formatter are never used from two threads at once.
final class Outbox: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let timestamp = ISO8601DateFormatter()
    /// Keys delivered by any process, as read up to `readOffset`.
    private var delivered = Set<String>()
    /// Where this process's reading of the file stopped: after the last whole line seen.
    private var readOffset: off_t = 0

    /// The sender recorded for a message that names none (the simulator's `from:`).
    private let from: String?

    init(path: String, from: String? = nil) throws {
        self.path = path
        self.from = from
        let folder = (path as NSString).deletingLastPathComponent
        // Full numbers: the folder is made 0700 and the file 0600, whatever the umask.
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { fchmod(fd, 0o600) }
        guard fd >= 0 else {
            throw SimulatorError("\(path): cannot open outbox: \(String(cString: strerror(errno)))")
        }
        timestamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    deinit { close(fd) }

    enum Delivery {
        /// Some process delivered the key before.
        case before
        /// Not delivered before, and refused now (`unless` said so).
        case refused(SendOutcome)
        /// Delivered by this call.
        case now
        /// Another process held the file's lock for all of `lockWait`: nothing was delivered.
        case busy
    }

    /// How long a delivery waits for another process's lock. A live process holds it for
    /// microseconds; a frozen one (SIGSTOP, a suspended VM) holds it for as long as it is
    /// frozen, and a wait without end stalled every other sender with it: their sending
    /// threads all blocked here, no heartbeat, no answer (journey seed 20675).
    static let lockWait: Duration = .milliseconds(500)

    /// Delivers `message` unless any process already delivered its key, or `unless`
    /// refuses it; all under the file's lock, so two processes never both deliver a key.
    func deliver(_ message: OutboundMessage, unless refusal: () -> SendOutcome?) throws -> Delivery {
        let deadline = ContinuousClock.now + Self.lockWait
        var pause: UInt32 = 200
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK:
                guard ContinuousClock.now < deadline else { return .busy }
                usleep(pause)
                pause = min(pause * 2, 20_000)
            default: throw SimulatorError("\(path): cannot lock outbox: \(String(cString: strerror(errno)))")
            }
        }
        defer { flock(fd, LOCK_UN) }
        let end = try readNewLines()
        if delivered.contains(message.idempotencyKey) { return .before }
        if let refused = refusal() { return .refused(refused) }
        let written = try append(message)
        delivered.insert(message.idempotencyKey)
        // Nothing torn was left unread: this line counts as read.
        if readOffset == end { readOffset = end + off_t(written) }
        return .now
    }

    /// Reads the whole lines appended since the last look (a torn last line, from a power
    /// cut, is never whole and never counts); returns the file's size.
    private func readNewLines() throws -> off_t {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SimulatorError("\(path): cannot stat outbox: \(String(cString: strerror(errno)))") }
        let size = info.st_size
        guard size > readOffset else { return size }
        var bytes = [UInt8](repeating: 0, count: Int(size - readOffset))
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, readOffset + off_t(filled)) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        guard let lastNewline = bytes[..<filled].lastIndex(of: UInt8(ascii: "\n")) else { return size }
        Self.collectKeys(bytes[...lastNewline], into: &delivered)
        readOffset += off_t(lastNewline + 1)
        return size
    }

    private static func collectKeys(_ data: ArraySlice<UInt8>, into keys: inout Set<String>) {
        struct Line: Decodable { let idempotency_key: String }
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let entry = try? decoder.decode(Line.self, from: Data(line)) { keys.insert(entry.idempotency_key) }
        }
    }

    /// Appends the message's line; returns its length in bytes.
    private func append(_ message: OutboundMessage) throws -> Int {
        var line = "{\"ts\":\"\(timestamp.string(from: Date()))\",\"campaign\":"
        JSONEscape.appendQuoted(message.campaign, to: &line)
        line += ",\"destination\":\"\(message.destination.e164)\",\"idempotency_key\":"
        JSONEscape.appendQuoted(message.idempotencyKey, to: &line)
        if let from = message.sender ?? from {
            line += ",\"from\":"
            JSONEscape.appendQuoted(from, to: &line)
        }
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
        return bytes.count
    }
}

struct SimulatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
