/// An RCS message in Herald's own terms, the one model every RCS provider maps
/// from: exactly one of text, media, rich card, carousel or a provider-side
/// template, plus message-level suggestions and an SMS fallback text.
///
/// Templates hold these with `<name>` placeholders in every string; the journal
/// holds them rendered, as JSON (keys as in `CodingKeys`).
public struct RCSContent: Codable, Sendable, Equatable {
    public var text: String?
    public var media: RCSMedia?
    public var card: RCSCard?
    public var carousel: RCSCarousel?
    /// A template kept by the provider (Agile `templateId`), filled with `placeholders`.
    public var templateID: String?
    public var placeholders: [String: String]?
    public var suggestions: [RCSSuggestion]?
    /// Sent as SMS when the recipient cannot receive RCS.
    public var fallbackSMS: String?
    /// Or sent as MMS (AWS, v5).
    public var fallbackMMS: RCSFallbackMMS?

    public init(text: String? = nil, media: RCSMedia? = nil, card: RCSCard? = nil, carousel: RCSCarousel? = nil,
                templateID: String? = nil, placeholders: [String: String]? = nil,
                suggestions: [RCSSuggestion]? = nil, fallbackSMS: String? = nil, fallbackMMS: RCSFallbackMMS? = nil) {
        self.fallbackMMS = fallbackMMS
        self.text = text
        self.media = media
        self.card = card
        self.carousel = carousel
        self.templateID = templateID
        self.placeholders = placeholders
        self.suggestions = suggestions
        self.fallbackSMS = fallbackSMS
    }

    enum CodingKeys: String, CodingKey {
        case text, media, card, carousel
        case templateID = "template_id"
        case placeholders, suggestions
        case fallbackSMS = "fallback_sms"
        case fallbackMMS = "fallback_mms"
    }

    /// Which kind of message this is: the one content key present.
    public var kind: Kind? {
        let present: [Kind] = [text.map { _ in .text }, media.map { _ in .media }, card.map { _ in .card },
                               carousel.map { _ in .carousel }, templateID.map { _ in .template }].compactMap { $0 }
        return present.count == 1 ? present[0] : nil
    }

    public enum Kind: String, Sendable {
        case text, media, card, carousel
        case template = "template_id"
    }
}

/// The MMS sent instead of an RCS message the recipient cannot receive.
public struct RCSFallbackMMS: Codable, Sendable, Equatable {
    public var body: String?
    public var mediaURL: String
    /// The MMS subject (v5 requires one).
    public var subject: String?

    public init(body: String?, mediaURL: String, subject: String?) {
        self.body = body
        self.mediaURL = mediaURL
        self.subject = subject
    }

    enum CodingKeys: String, CodingKey {
        case body
        case mediaURL = "media_url"
        case subject
    }
}

/// A file shown on its own or at the top of a card.
public struct RCSMedia: Codable, Sendable, Equatable {
    public var url: String
    public var thumbnailURL: String?
    /// The name the recipient sees (v5 `filenameOverride`).
    public var filename: String?
    /// SHORT, MEDIUM or TALL (cards only).
    public var height: String?

    public init(url: String, thumbnailURL: String? = nil, filename: String? = nil, height: String? = nil) {
        self.url = url
        self.thumbnailURL = thumbnailURL
        self.filename = filename
        self.height = height
    }

    enum CodingKeys: String, CodingKey {
        case url
        case thumbnailURL = "thumbnail_url"
        case filename, height
    }
}

public struct RCSCard: Codable, Sendable, Equatable {
    public var title: String?
    public var description: String?
    public var media: RCSMedia?
    /// VERTICAL or HORIZONTAL (standalone cards).
    public var orientation: String?
    /// LEFT or RIGHT, for horizontal cards.
    public var thumbnailAlignment: String?
    public var suggestions: [RCSSuggestion]?

    public init(title: String? = nil, description: String? = nil, media: RCSMedia? = nil, orientation: String? = nil,
                thumbnailAlignment: String? = nil, suggestions: [RCSSuggestion]? = nil) {
        self.title = title
        self.description = description
        self.media = media
        self.orientation = orientation
        self.thumbnailAlignment = thumbnailAlignment
        self.suggestions = suggestions
    }

    enum CodingKeys: String, CodingKey {
        case title, description, media, orientation
        case thumbnailAlignment = "thumbnail_alignment"
        case suggestions
    }
}

public struct RCSCarousel: Codable, Sendable, Equatable {
    /// SMALL or MEDIUM.
    public var width: String?
    public var cards: [RCSCard]

    public init(width: String? = nil, cards: [RCSCard]) {
        self.width = width
        self.cards = cards
    }
}

/// A button under a message or card. Which fields apply depends on `type`.
public struct RCSSuggestion: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case reply
        case openURL = "open_url"
        case dial
        case showLocation = "show_location"
        case requestLocation = "request_location"
        case calendar
    }

    public var type: Kind
    /// The button's label.
    public var text: String
    /// What comes back when the recipient taps it; the label when not set.
    public var postback: String?
    public var url: String?
    /// BROWSER or WEBVIEW, and FULL, HALF or TALL for a webview.
    public var application: String?
    public var webviewMode: String?
    public var phone: String?
    /// Decimal degrees, as text so placeholders can fill them.
    public var latitude: String?
    public var longitude: String?
    public var label: String?
    /// Calendar event title and description.
    public var title: String?
    public var description: String?
    /// ISO 8601 date-times.
    public var start: String?
    public var end: String?

    public init(type: Kind, text: String, postback: String? = nil) {
        self.type = type
        self.text = text
        self.postback = postback
    }

    enum CodingKeys: String, CodingKey {
        case type, text, postback, url, application
        case webviewMode = "webview_mode"
        case phone, latitude, longitude, label, title, description, start, end
    }

    /// The postback data sent: as written, else the label.
    public var postbackData: String { postback ?? text }

    /// Keys that must be present for `type`, beyond `type` and `text`.
    public static func requiredKeys(_ type: Kind) -> [String] {
        switch type {
        case .reply, .requestLocation: return []
        case .openURL: return ["url"]
        case .dial: return ["phone"]
        case .showLocation: return ["latitude", "longitude"]
        case .calendar: return ["title", "start", "end"]
        }
    }

    /// Keys allowed for `type`.
    public static func allowedKeys(_ type: Kind) -> [String] {
        let common = ["type", "text", "postback"]
        switch type {
        case .reply, .requestLocation: return common
        case .openURL: return common + ["url", "application", "webview_mode"]
        case .dial: return common + ["phone"]
        case .showLocation: return common + ["latitude", "longitude", "label"]
        case .calendar: return common + ["title", "description", "start", "end"]
        }
    }
}
