import CLibCSV
import HeraldCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a CSV file through libcsv a chunk at a time: memory stays bounded by
/// the chunk size whatever the file's length.
///
/// Handles a UTF-8 byte order mark, LF, CRLF and CR line ends, quoted fields with
/// commas, quotes and line breaks, empty fields and blank lines (skipped). Each
/// record carries the line it starts on, so errors can point into the file.
public final class CSVReader {
    public let path: String
    /// The header row's column names, trimmed.
    public private(set) var header: [String] = []
    /// Line of the header row.
    public private(set) var headerLine = 1

    private let fd: Int32
    private var parser = csv_parser()
    private let collector = Collector()
    private var chunk: [UInt8]
    private var atStart = true
    private var finished = false

    /// Opens the file and reads its header row.
    /// With `skipComments`, records whose first field starts with `#` are skipped
    /// (for hand-written files such as price books; never for recipients).
    public init(path: String, chunkSize: Int = 1 << 18, skipComments: Bool = false) throws(CSVError) {
        self.path = path
        self.skipComments = skipComments
        chunk = [UInt8](repeating: 0, count: chunkSize)
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CSVError(.cannotOpen(errno: errno), path: path) }
        guard csv_init(&parser, UInt8(CSV_REPALL_NL)) == 0 else {
            close(fd)
            throw CSVError(.outOfMemory, path: path)
        }
        var headerRecord: [String]?
        var line = 1
        while headerRecord == nil {
            let more = try fill()
            collector.withRecords { record in
                if skipComments, record[0].first == UInt8(ascii: "#") { return .consume }
                if headerRecord == nil {
                    headerRecord = (0..<record.count).map { String(validating: record[$0], as: UTF8.self) ?? "\u{FFFD}" }
                    line = record.line
                    return .consumeAndStop
                }
                return .stop
            }
            if !more && headerRecord == nil { throw CSVError(.empty, path: path) }
        }
        header = headerRecord!.map(\.trimmingSpaces)
        headerLine = line
        try checkHeader()
    }

    private let skipComments: Bool

    deinit {
        csv_free(&parser)
        close(fd)
    }

    /// Calls `body` with each record after the header, in order, until the file
    /// ends or `body` returns false. The record is valid only during the call.
    public func forEachRecord(_ body: (CSVRecord) throws -> Bool) throws {
        var stop = false
        while !stop {
            collector.withRecords { record in
                if skipComments, record[0].first == UInt8(ascii: "#") { return .consume }
                do {
                    if try body(record) { return .consume }
                } catch {
                    collector.pendingError = error
                }
                stop = true
                return .consumeAndStop
            }
            if let error = collector.pendingError {
                collector.pendingError = nil
                throw error
            }
            if stop || finished { break }
            _ = try fill()
        }
    }

    /// The next complete records (at least one) as an independent batch, or nil at
    /// the end of the file. For handing records to another thread.
    public func nextBatch() throws(CSVError) -> CSVBatch? {
        while true {
            if let batch = collector.takeBatch(skipComments: skipComments) { return batch }
            if finished { return nil }
            _ = try fill()
        }
    }

    /// Reads the next chunk into libcsv. Returns false once the file has ended.
    private func fill() throws(CSVError) -> Bool {
        if finished { return false }
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 { throw CSVError(.readFailed(errno: errno), path: path) }
        let context = Unmanaged.passUnretained(collector).toOpaque()
        if count == 0 {
            finished = true
            // libcsv reports an unclosed quote only in strict mode, which would also stop
            // at the first stray quote; so look at its state: inside a quoted field.
            let insideQuotes = parser.pstate == 2 && parser.quoted != 0
            if insideQuotes || csv_fini(&parser, fieldCallback, rowCallback, context) != 0 {
                throw CSVError(.unterminatedQuote, path: path, line: collector.recordLine)
            }
            return false
        }
        let parsedAll = chunk.withUnsafeBytes { buffer -> Bool in
            var bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if atStart {
                atStart = false
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = UnsafeRawBufferPointer(rebasing: bytes[3...]) }
            }
            return csv_parse(&parser, bytes.baseAddress, bytes.count, fieldCallback, rowCallback, context) == bytes.count
        }
        if !parsedAll { throw CSVError(.outOfMemory, path: path, line: collector.recordLine) }
        return true
    }

    private func checkHeader() throws(CSVError) {
        var seen = Set<String>()
        for (index, name) in header.enumerated() {
            if name.isEmpty { throw CSVError(.badHeader("column \(index + 1) has no name"), path: path, line: headerLine) }
            if name.contains("\u{FFFD}") {
                throw CSVError(.badHeader("column \(index + 1) is not valid UTF-8"), path: path, line: headerLine)
            }
            guard seen.insert(name).inserted else {
                throw CSVError(.badHeader("column \"\(name)\" appears twice"), path: path, line: headerLine)
            }
        }
    }
}

private let fieldCallback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Void = {
    field, length, context in
    // The reader holds the collector for as long as libcsv runs: no retain for each call.
    Unmanaged<Collector>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.addField(UnsafeRawBufferPointer(start: field, count: length))
    }
}

private let rowCallback: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { terminator, context in
    Unmanaged<Collector>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.endRecord(terminator: terminator) }
}

/// Gathers libcsv's field and row callbacks into flat arrays: one byte buffer and
/// the end offset of each field, so a chunk's records cost no allocation each.
private final class Collector {
    enum Verdict {
        case consume, consumeAndStop, stop
    }

    var bytes: [UInt8] = []
    var fieldEnds: [Int] = []
    /// Per complete record: index of its first field, field count, line.
    var records: [(first: Int, count: Int, line: Int)] = []
    var consumed = 0
    var recordStart = 0
    /// Line the record being collected started on.
    var recordLine = 1
    /// Line the next character belongs to.
    var line = 1
    var lastTerminator: Int32 = -1
    var pendingError: Error?

    init() {
        bytes.reserveCapacity(1 << 18)
        fieldEnds.reserveCapacity(1 << 14)
    }

    func addField(_ field: UnsafeRawBufferPointer) {
        if fieldEnds.count == recordStart { recordLine = line }
        bytes.append(contentsOf: field)
        fieldEnds.append(bytes.count)
        lastTerminator = -1
        // Line breaks inside a quoted field move the line count on.
        if field.contains(0x0A) { line += field.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
    }

    func endRecord(terminator: Int32) {
        let count = fieldEnds.count - recordStart
        let isCRLFTail = terminator == 0x0A && lastTerminator == 0x0D && count == 0
        lastTerminator = terminator
        if isCRLFTail { return }
        if count > 0 {
            records.append((recordStart, count, recordLine))
            recordStart = fieldEnds.count
        }
        if terminator >= 0 { line += 1 }
        recordLine = line
    }

    /// Hands every complete record not yet consumed over as a batch and drops them. The buffers
    /// themselves go with the batch (no copy of the records); only the fields of a record still
    /// being parsed are copied into fresh ones.
    func takeBatch(skipComments: Bool) -> CSVBatch? {
        guard consumed < records.count else { return nil }
        if skipComments { return copiedBatch(skipComments: true) }
        var batch = CSVBatch()
        let keepFrom = recordStart == 0 ? 0 : fieldEnds[recordStart - 1]
        batch.records = consumed == 0 ? records : Array(records[consumed...])
        swap(&batch.bytes, &bytes)
        swap(&batch.ends, &fieldEnds)
        bytes.reserveCapacity(max(1 << 18, batch.bytes.count))
        bytes.append(contentsOf: batch.bytes[keepFrom...])
        fieldEnds.reserveCapacity(max(1 << 14, batch.ends.count))
        fieldEnds.append(contentsOf: batch.ends[recordStart...].lazy.map { $0 - keepFrom })
        records.removeAll(keepingCapacity: true)
        consumed = 0
        recordStart = 0
        return batch
    }

    /// Copies every complete record not yet consumed into a batch (leaving out comments) and
    /// drops them.
    private func copiedBatch(skipComments: Bool) -> CSVBatch? {
        var batch = CSVBatch()
        while consumed < records.count {
            let entry = records[consumed]
            consumed += 1
            let start = entry.first == 0 ? 0 : fieldEnds[entry.first - 1]
            if skipComments, fieldEnds[entry.first] > start, bytes[start] == UInt8(ascii: "#") { continue }
            let base = batch.bytes.count
            let first = batch.ends.count
            batch.bytes.append(contentsOf: bytes[start..<fieldEnds[entry.first + entry.count - 1]])
            for field in entry.first..<(entry.first + entry.count) { batch.ends.append(fieldEnds[field] - start + base) }
            batch.records.append((first, entry.count, entry.line))
        }
        withRecords { _ in .consume }
        return batch.records.isEmpty ? nil : batch
    }

    /// Hands out complete records not yet consumed, then drops the consumed ones,
    /// keeping any fields of a record still being parsed.
    func withRecords(_ body: (CSVRecord) -> Verdict) {
        bytes.withUnsafeBufferPointer { bytes in
            fieldEnds.withUnsafeBufferPointer { ends in
                while consumed < records.count {
                    let entry = records[consumed]
                    let record = CSVRecord(line: entry.line, count: entry.count, bytes: bytes, ends: ends, firstField: entry.first)
                    let verdict = body(record)
                    if verdict == .stop { break }
                    consumed += 1
                    if verdict == .consumeAndStop { break }
                }
            }
        }
        guard consumed == records.count else { return }
        records.removeAll(keepingCapacity: true)
        consumed = 0
        let keepFrom = recordStart == 0 ? 0 : fieldEnds[recordStart - 1]
        let partial = fieldEnds[recordStart...].map { $0 - keepFrom }
        bytes.removeSubrange(0..<keepFrom)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldEnds.append(contentsOf: partial)
        recordStart = 0
    }
}

/// Complete records copied out of the reader: safe to hand to another thread.
public struct CSVBatch: Sendable {
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var records: [(first: Int, count: Int, line: Int)] = []

    public var count: Int { records.count }

    /// Calls `body` with each record, valid only during the call.
    public func forEach(_ body: (CSVRecord) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { bytes in
            try ends.withUnsafeBufferPointer { ends in
                for entry in records {
                    try body(CSVRecord(line: entry.line, count: entry.count, bytes: bytes, ends: ends, firstField: entry.first))
                }
            }
        }
    }
}
