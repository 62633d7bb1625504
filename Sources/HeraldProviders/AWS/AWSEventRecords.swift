import CZlib
import HeraldCore

/// AWS End User Messaging event records (SMS, MMS, voice, RCS), as an event
/// destination writes them: through SNS one record per notification, through
/// Firehose to S3 many records per object, one per line or concatenated with no
/// separator, often gzip-compressed.
public enum AWSEventRecords {
    /// Every record in a Firehose/S3 object (plain or gzip). `record` gets each event;
    /// a record that is not valid JSON or not an event stops the read with an error
    /// naming its position.
    public static func read(_ data: [UInt8], _ record: (DeliveryEvent) throws -> Void) throws {
        let plain = isGzip(data) ? try Gzip.inflate(data) : data
        try plain.withUnsafeBufferPointer { bytes in
            var index = 0
            var number = 0
            while true {
                while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                    index += 1
                }
                guard index < bytes.count else { return }
                number += 1
                guard let (tree, end) = JSONTree.parseNext(bytes, from: index) else {
                    throw ReceiptParseError("record \(number) (byte \(index)) is not valid JSON")
                }
                let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                do {
                    try record(try event(tree, raw: raw))
                } catch let error as ReceiptParseError {
                    throw ReceiptParseError("record \(number): \(error.description)")
                }
                index = end
            }
        }
    }

    static func isGzip(_ data: [UInt8]) -> Bool { data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B }

    /// One event record.
    public static func event(_ tree: JSONTree, raw: String) throws(ReceiptParseError) -> DeliveryEvent {
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
            at: tree["eventTimestamp"]?.milliseconds, raw: raw)
        let final = tree["isFinal"]?.bool ?? true
        switch state(eventType: type, messageStatus: event.code, isFinal: final) {
        case .read: event.read = true
        case .state(let state): event.state = state
        }
        if let price = tree["totalMessagePrice"]?.number.flatMap(Money.init(dollars:)) {
            event.price = price + (tree["totalCarrierFee"]?.number.flatMap(Money.init(dollars:)) ?? .zero)
        }
        return event
    }

    public enum Reported: Equatable, Sendable { case state(DeliveryState), read }

    /// Event type to delivery state (README, "AWS event types"). The prefix names the
    /// channel (`TEXT_`, `MEDIA_`, `VOICE_`, `RCS_`); the rest decides.
    public static func state(eventType: String, messageStatus: String?, isFinal: Bool) -> Reported {
        let kind = eventType.split(separator: "_", maxSplits: 1).last.map(String.init) ?? eventType
        switch kind {
        case "READ": return .read
        case "QUEUED", "PENDING", "SENT", "INITIATED", "RINGING", "ANSWERED": return .state(.pending)
        default: break
        }
        if !isFinal { return .state(.pending) }
        switch kind {
        case "SUCCESSFUL", "DELIVERED", "COMPLETED": return .state(.delivered)
        case "TTL_EXPIRED": return .state(.expired)
        case "FALLEN_BACK_TO_SMS", "FALLEN_BACK_TO_MMS": return .state(.fallback)
        case "UNKNOWN": return .state(.unknown)
        case "INVALID", "INVALID_MESSAGE", "UNREACHABLE", "CARRIER_UNREACHABLE", "BLOCKED", "CARRIER_BLOCKED", "SPAM",
            "PROTECT_BLOCKED", "FAILED", "BUSY", "NO_ANSWER":
            return .state(.undelivered)
        default:
            // A type this table does not know yet: the record's status decides.
            switch messageStatus?.uppercased() {
            case "DELIVERED", "SUCCESSFUL": return .state(.delivered)
            case "UNKNOWN": return .state(.unknown)
            default: return .state(.undelivered)
            }
        }
    }
}

/// gzip through zlib (RFC 1952, several members allowed, as concatenated `.gz` files are).
enum Gzip {
    /// The inflated bytes; at most `limit` of them (a bomb is refused, not expanded).
    static func inflate(_ input: [UInt8], limit: Int = 4 << 30) throws(ReceiptParseError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ReceiptParseError("gzip: zlib failed to start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(input.count * 8, limit))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var consumed = 0
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (source) throws(ReceiptParseError) in
            while true {
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                stream.avail_in = UInt32(source.count - consumed)
                repeat {
                    status = chunk.withUnsafeMutableBufferPointer { buffer in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = UInt32(buffer.count)
                        return CZlib.inflate(&stream, Z_NO_FLUSH)
                    }
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                        throw ReceiptParseError("gzip: the data is corrupt (zlib \(status))")
                    }
                    output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                    guard output.count <= limit else { throw ReceiptParseError("gzip: inflates to more than \(limit) bytes") }
                } while stream.avail_out == 0 && status != Z_STREAM_END
                consumed = source.count - Int(stream.avail_in)
                if status == Z_STREAM_END {
                    // Another member follows (files joined with cat): start it.
                    guard consumed < source.count else { return }
                    guard inflateReset(&stream) == Z_OK else { throw ReceiptParseError("gzip: zlib failed to restart") }
                    continue
                }
                guard status != Z_BUF_ERROR || stream.avail_in != 0 else { throw ReceiptParseError("gzip: the data is truncated") }
                if stream.avail_in == 0 { throw ReceiptParseError("gzip: the data is truncated") }
            }
        }
        return output
    }
}
