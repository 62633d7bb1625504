/// An MMS: optional text and the media it carries (journal JSON).
public struct MMSContent: Codable, Sendable, Equatable {
    public var body: String?
    public var mediaURLs: [String]

    public init(body: String?, mediaURLs: [String]) {
        self.body = body
        self.mediaURLs = mediaURLs
    }

    enum CodingKeys: String, CodingKey {
        case body
        case mediaURLs = "media_urls"
    }
}

/// A voice call reading `body` as plain text or SSML (journal JSON).
public struct VoiceContent: Codable, Sendable, Equatable {
    public var body: String
    /// TEXT or SSML.
    public var textType: String

    public init(body: String, textType: String) {
        self.body = body
        self.textType = textType
    }

    enum CodingKeys: String, CodingKey {
        case body
        case textType = "text_type"
    }
}

/// A message whose text the provider keeps (AWS Notify templates): which
/// template, and the variables that fill it, all as text (journal JSON).
public struct NotifyContent: Codable, Sendable, Equatable {
    public var templateID: String?
    public var variables: [String: String]

    public init(templateID: String?, variables: [String: String]) {
        self.templateID = templateID
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey {
        case templateID = "template_id"
        case variables
    }
}
