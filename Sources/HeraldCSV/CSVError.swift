/// A problem with a CSV file as a whole (as opposed to one bad row, which the
/// reader hands on for the caller to judge). The description names the file and,
/// where there is one, the line.
public struct CSVError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case cannotOpen(errno: Int32)
        case readFailed(errno: Int32)
        case empty
        case unterminatedQuote
        case badHeader(String)
        case outOfMemory
    }

    let kind: Kind
    public let path: String
    public let line: Int?

    init(_ kind: Kind, path: String, line: Int? = nil) {
        self.kind = kind
        self.path = path
        self.line = line
    }

    public var description: String {
        let place = line.map { "\(path):\($0)" } ?? path
        switch kind {
        case .cannotOpen(let code): return "\(place): cannot open: \(String(cString: strerror(code)))"
        case .readFailed(let code): return "\(place): read failed: \(String(cString: strerror(code)))"
        case .empty: return "\(place): the file is empty; the first line must be a header naming the columns"
        case .unterminatedQuote: return "\(place): a quoted field opened on this line is never closed"
        case .badHeader(let reason): return "\(place): header: \(reason)"
        case .outOfMemory: return "\(place): out of memory while parsing"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
