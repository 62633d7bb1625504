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
    public static func decode<Content: JSONTreeReadable>(_ type: Content.Type, from bytes: some Collection<UInt8>) -> Content? {
        JSONTree.parse(Array(bytes)).flatMap(Content.init(tree:))
    }

    /// ISO 8601 with or without fractional seconds (`2030-03-03T15:00:00Z`,
    /// `2030-03-03T15:00:00.000+01:00`).
    public static func date(_ text: String) -> Date? {
        ISO8601.parse(text).map { Date(timeIntervalSince1970: $0) }
    }
}
