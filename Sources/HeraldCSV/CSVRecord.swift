/// One record of a CSV file, valid only inside the closure it is passed to.
/// Fields are raw bytes: the reader does not decode or validate text.
public struct CSVRecord {
    /// Line of the file the record starts on (the header is line 1 when it is the first line).
    public let line: Int
    /// Number of fields in the record.
    public let count: Int
    let bytes: UnsafeBufferPointer<UInt8>
    let ends: UnsafeBufferPointer<Int>  // ends[i] = end offset of field i; ends[-1] = start
    let firstField: Int

    init(line: Int, count: Int, bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<Int>, firstField: Int) {
        self.line = line
        self.count = count
        self.bytes = bytes
        self.ends = ends
        self.firstField = firstField
    }

    /// The bytes of field `index` (0-based); empty when the record is shorter.
    public subscript(index: Int) -> UnsafeBufferPointer<UInt8> {
        guard index < count else { return UnsafeBufferPointer(start: nil, count: 0) }
        let field = firstField + index
        let start = field == 0 ? 0 : ends[field - 1]
        return UnsafeBufferPointer(rebasing: bytes[start..<ends[field]])
    }

    public func string(_ index: Int) -> String {
        String(decoding: self[index], as: UTF8.self)
    }
}
