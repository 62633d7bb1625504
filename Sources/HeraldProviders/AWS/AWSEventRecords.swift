import CZlib
import Foundation
import HeraldCore

/// AWS End User Messaging event records (SMS, MMS, voice, RCS), as an event
/// destination writes them: through SNS one record per notification, through
/// Firehose to S3 many records per object, one per line or concatenated with no
/// separator, often gzip-compressed.
public enum AWSEventRecords {
    /// A record passed over: where it is and why. The read goes on after it.
    public struct Rejection: Sendable, Equatable, CustomStringConvertible {
        /// "record N (byte B)"
        public let position: String
        public let reason: String
        public var description: String { "\(position): \(reason)" }
    }

    /// What a read does with a record that is not an event.
    public typealias Rejected = (Rejection) -> Void

    /// Every record in a Firehose/S3 object held in memory (plain or gzip). Without
    /// `rejected`, the first bad record stops the read with an error naming its position.
    public static func read(_ data: [UInt8], rejected: Rejected? = nil, _ record: (DeliveryEvent) throws -> Void) throws {
        var stream = RecordStream(gzip: isGzip(data), rejected: rejected)
        try stream.feed(data[...], record)
        try stream.finish(record)
    }

    /// Every record in a file, read in 1 MiB chunks (and inflated as it goes), so memory
    /// stays flat whatever the file's size. `record` gets each event. A record that is not
    /// an event (a field out of range, none of the fields an event needs) goes to `rejected`
    /// and the read goes on; so does one that is not valid JSON, the read resuming at the
    /// next line. Without `rejected`, the first bad record stops the read with an error
    /// naming its position. Broken gzip always stops it.
    public static func read(file path: String, rejected: Rejected? = nil, _ record: (DeliveryEvent) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReceiptParseError("cannot open the file") }
        defer { try? handle.close() }
        var stream: RecordStream?
        while true {
            let chunk = [UInt8](handle.readData(ofLength: 1 << 20))
            if chunk.isEmpty { break }
            if stream == nil { stream = RecordStream(gzip: isGzip(chunk), rejected: rejected) }
            try stream!.feed(chunk[...], record)
        }
        try stream?.finish(record)
    }

    static func isGzip(_ data: [UInt8]) -> Bool { data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B }

    /// One event record.
    public static func event(_ tree: JSONTree, raw: String) throws(ReceiptParseError) -> DeliveryEvent {
        // A two-way message (a recipient's reply, as AWS publishes it to SNS).
        if tree["eventType"] == nil, let from = tree["originationNumber"]?.string, let body = tree["messageBody"]?.string {
            return DeliveryEvent(source: .aws, type: "INBOUND", match: .none, state: nil,
                                 at: try tree.eventTime("inboundMessageTimestamp"), raw: raw,
                                 reply: DeliveryEvent.Reply(from: from, text: body))
        }
        guard case .object = tree, let type = tree["eventType"]?.string else {
            throw ReceiptParseError("the record has no \"eventType\"")
        }
        let messageID = tree["messageId"]?.string
        let match: DeliveryEvent.Match
        if let context = tree["context"], let campaign = context["campaign"]?.string,
            let row = context.text("herald_row").flatMap({ Int($0) })
        {
            match = .row(campaign: campaign, row: row, reference: messageID)
        } else if let messageID, !messageID.isEmpty {
            match = .reference(messageID)
        } else {
            throw ReceiptParseError("the record has neither \"messageId\" nor a herald context")
        }
        var event = DeliveryEvent(
            source: .aws, type: type, match: match, state: nil,
            code: tree["messageStatus"]?.string, detail: tree["messageStatusDescription"]?.string,
            at: try tree.eventTime("eventTimestamp"), raw: raw)
        let final = tree["isFinal"]?.bool ?? true
        event.channel = channels[String(type.prefix(while: { $0 != "_" }))]
        switch state(eventType: type, messageStatus: event.code, isFinal: final) {
        case .read: event.read = true
        case .state(let state): event.state = state
        }
        // TEXT_INVALID, MEDIA_INVALID, VOICE_INVALID: the number itself is not valid.
        event.invalidNumber = final && type.hasSuffix("_INVALID")
        event.price = try tree.price("totalMessagePrice", "totalCarrierFee")
        return event
    }

    public enum Reported: Equatable, Sendable { case state(DeliveryState), read }

    /// The channel each event type's prefix names.
    static let channels: [String: Channel] = ["TEXT": .sms, "MEDIA": .mms, "VOICE": .voice, "RCS": .rcs]

    /// A direct send's RCS message was not delivered and will not be: AWS never falls back to
    /// SMS from an RCS agent ARN. Not `RCS_PROTECT_BLOCKED` (AWS blocked it as fraud: sending
    /// it again elsewhere is what that protection stops), not `RCS_FALLEN_BACK_TO_SMS` (AWS
    /// sent the SMS itself).
    public static let rcsFailure = RCSFailureProof(source: .aws, types: ["RCS_FAILED", "RCS_TTL_EXPIRED"])

    /// Event type to delivery state (README, "AWS event types"). The prefix names the
    /// channel (`TEXT_`, `MEDIA_`, `VOICE_`, `RCS_`); the rest decides.
    public static func state(eventType: String, messageStatus: String?, isFinal: Bool) -> Reported {
        let kind = eventType.split(separator: "_", maxSplits: 1).last.map(String.init) ?? eventType
        switch kinds[kind] {
        case .read: return .read
        case .inFlight: return .state(.pending)
        case nil, .some: break
        }
        if !isFinal { return .state(.pending) }
        switch kinds[kind] {
        case .final(let state): return .state(state)
        default:
            // A type this table does not know yet: the record's status decides.
            switch messageStatus?.uppercased() {
            case "DELIVERED", "SUCCESSFUL": return .state(.delivered)
            case "UNKNOWN": return .state(.unknown)
            default: return .state(.undelivered)
            }
        }
    }

    private enum Kind { case read, inFlight, final(DeliveryState) }

    /// What each event type (after its channel prefix) means.
    private static let kinds: [String: Kind] = {
        var table: [String: Kind] = ["READ": .read]
        for kind in ["QUEUED", "PENDING", "SENT", "INITIATED", "RINGING", "ANSWERED"] { table[kind] = .inFlight }
        for kind in ["SUCCESSFUL", "DELIVERED", "COMPLETED"] { table[kind] = .final(.delivered) }
        table["TTL_EXPIRED"] = .final(.expired)
        for kind in ["FALLEN_BACK_TO_SMS", "FALLEN_BACK_TO_MMS"] { table[kind] = .final(.fallback) }
        table["UNKNOWN"] = .final(.unknown)
        for kind in ["INVALID", "INVALID_MESSAGE", "UNREACHABLE", "CARRIER_UNREACHABLE", "BLOCKED", "CARRIER_BLOCKED", "SPAM",
                     "PROTECT_BLOCKED", "FAILED", "BUSY", "NO_ANSWER"] {
            table[kind] = .final(.undelivered)
        }
        return table
    }()

    /// An event type as a metric label: a channel prefix and a type herald knows, else
    /// `other` (`/metrics` stays bounded whatever a sender of records makes up).
    public static func metricLabel(_ eventType: String) -> String {
        if eventType == "INBOUND" { return eventType }
        let parts = eventType.split(separator: "_", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["TEXT", "MEDIA", "VOICE", "RCS"].contains(parts[0]), kinds[parts[1]] != nil else { return "other" }
        return eventType
    }
}

/// Records split out of bytes that arrive in chunks: each complete JSON object is
/// handed on, an incomplete tail waits for the next chunk.
struct RecordStream {
    /// A record longer than this is refused rather than buffered without end.
    static let maxRecord = 1 << 20
    private var inflater: Inflater?
    private var pending: [UInt8] = []
    private var consumedBytes = 0
    private var number = 0
    private let rejected: AWSEventRecords.Rejected?
    /// After a record that is not JSON: passing over bytes up to the next line.
    private var skipping = false

    init(gzip: Bool, rejected: AWSEventRecords.Rejected? = nil) {
        inflater = gzip ? Inflater() : nil
        self.rejected = rejected
    }

    mutating func feed(_ chunk: ArraySlice<UInt8>, _ record: (DeliveryEvent) throws -> Void) throws {
        if let inflater {
            // Drained as it inflates: a 1 MiB gzip chunk can hold 100 MiB of records.
            try inflater.inflate(chunk) { piece in
                pending.append(contentsOf: piece)
                if pending.count >= 1 << 20 { try drain(final: false, record) }
            }
        } else {
            pending.append(contentsOf: chunk)
        }
        try drain(final: false, record)
    }

    mutating func finish(_ record: (DeliveryEvent) throws -> Void) throws {
        if let inflater, !inflater.ended { throw ReceiptParseError("gzip: the data is truncated") }
        try drain(final: true, record)
    }

    private mutating func drain(final: Bool, _ record: (DeliveryEvent) throws -> Void) throws {
        var index = 0
        defer {
            consumedBytes += index
            pending.removeFirst(index)
        }
        try pending.withUnsafeBufferPointer { bytes in
            while true {
                if skipping {
                    guard let newline = bytes[index...].firstIndex(of: 0x0A) else {
                        index = bytes.count
                        return
                    }
                    index = newline + 1
                    skipping = false
                }
                while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                    index += 1
                }
                guard index < bytes.count else { return }
                let position = "record \(number + 1) (byte \(consumedBytes + index))"
                // Not JSON: reported (or the read stops), and the bytes up to the next line passed over.
                var broken: String?
                var parsed: (JSONTree, Int)?
                if bytes[index] != UInt8(ascii: "{") {
                    broken = "not a JSON object"
                } else if let next = JSONTree.parseNext(bytes, from: index) {
                    parsed = next
                } else if final || bytes.count - index > Self.maxRecord {
                    broken = "not valid JSON"
                } else {
                    return  // Incomplete: wait for more.
                }
                if let broken {
                    guard let rejected else { throw ReceiptParseError("\(position) is \(broken)") }
                    number += 1
                    rejected(AWSEventRecords.Rejection(position: position, reason: broken))
                    skipping = true
                    continue
                }
                guard let (tree, end) = parsed else { return }
                number += 1
                let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                let event: DeliveryEvent
                do {
                    event = try AWSEventRecords.event(tree, raw: raw)
                } catch {
                    let reason = (error as? ReceiptParseError)?.description ?? "\(error)"
                    guard let rejected else { throw ReceiptParseError("record \(number): \(reason)") }
                    rejected(AWSEventRecords.Rejection(position: position, reason: reason))
                    index = end
                    continue
                }
                try record(event)
                index = end
            }
        }
    }
}

/// gzip through zlib, a chunk at a time (RFC 1952; several members allowed, as
/// concatenated `.gz` files are).
final class Inflater {
    private var stream = z_stream()
    private var started = false
    private(set) var ended = false
    private var output = [UInt8](repeating: 0, count: 1 << 18)

    deinit {
        if started { inflateEnd(&stream) }
    }

    func inflate(_ input: ArraySlice<UInt8>, _ produced: (ArraySlice<UInt8>) throws -> Void) throws {
        if !started {
            guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ReceiptParseError("gzip: zlib failed to start")
            }
            started = true
        }
        var input = Array(input)
        var offset = 0
        var full = false
        // Until the input is used up and zlib holds no more output (a full buffer may hide more).
        while offset < input.count || full {
            if ended {
                // Another member follows (files joined with cat): start it.
                guard inflateReset(&stream) == Z_OK else { throw ReceiptParseError("gzip: zlib failed to restart") }
                ended = false
            }
            let (status, used, made) = input.withUnsafeMutableBufferPointer { source in
                output.withUnsafeMutableBufferPointer { target in
                    stream.next_in = source.baseAddress! + offset
                    stream.avail_in = UInt32(source.count - offset)
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (status, source.count - offset - Int(stream.avail_in), target.count - Int(stream.avail_out))
                }
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && made == 0 && used == 0) else {
                throw ReceiptParseError("gzip: the data is corrupt (zlib \(status))")
            }
            if made > 0 { try produced(output[0..<made]) }
            offset += used
            full = made == output.count
            if status == Z_STREAM_END { ended = true }
            if used == 0 && made == 0 { break }
        }
    }
}
