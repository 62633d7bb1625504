import Foundation

/// The provider a message is checked for: each takes different content and limits.
public enum ContentTarget: String, Sendable, CaseIterable {
    case simulator
    case aws
    case agile
    case v5

    /// Channels the provider can send.
    public var channels: [Channel] {
        switch self {
        case .simulator, .aws: return Channel.allCases
        case .agile, .v5: return [.rcs]
        }
    }
}

/// One thing wrong with a message's content: where (`rcs.card.title`) and what.
public struct ContentIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Reads the JSON a non-SMS template renders to.
public enum ContentJSON {
    /// One of the content types (`RCSContent`, `MMSContent`, `VoiceContent`,
    /// `NotifyContent`) from its JSON; nil when the JSON is not one.
    public static func decode<Content: Decodable>(_ type: Content.Type, from bytes: some Collection<UInt8>) -> Content? {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { decode(type, from: $0) }
    }

    public static func decode<Content: Decodable>(_ type: Content.Type, from bytes: UnsafeBufferPointer<UInt8>) -> Content? {
        if let readable = type as? any JSONTreeReadable.Type {
            return JSONTree.parse(bytes).flatMap { readable.init(tree: $0) } as? Content
        }
        return try? JSONDecoder().decode(type, from: Data(buffer: bytes))
    }

    /// ISO 8601 with or without fractional seconds (`2030-03-03T15:00:00Z`,
    /// `2030-03-03T15:00:00.000+01:00`).
    public static func date(_ text: String) -> Date? {
        ISO8601.parse(text).map { Date(timeIntervalSince1970: $0) }
    }
}
