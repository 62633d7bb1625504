import Foundation

/// How a JSON API authenticates: a header built once from the environment. The
/// secret never leaves the header: `description` hides it.
public struct HTTPCredentials: Sendable, CustomStringConvertible {
    let header: (name: String, value: String)
    let kind: String

    /// `Authorization: Basic base64(user:password)`.
    public static func basic(user: String, password: String) -> HTTPCredentials {
        HTTPCredentials(header: ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()),
                        kind: "basic")
    }

    public static func apiKey(header: String, key: String) -> HTTPCredentials {
        HTTPCredentials(header: (header, key), kind: "api key")
    }

    public var description: String { "HTTPCredentials(\(kind), secret hidden)" }

    /// A non-empty variable of the environment.
    static func variable(_ name: String, in environment: [String: String]) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Why an HTTP provider cannot start; said before anything is sent.
public struct ProviderSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension HTTPResponseData {
    /// `Retry-After` in seconds (fractions allowed), when the answer has one.
    var retryAfter: Duration? {
        header("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            .map { .milliseconds(Int(max(0, $0) * 1000)) }
    }

    /// The body as a JSON object, or empty.
    var jsonObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// A short, single-line excerpt of the body for error details.
    var excerpt: String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
