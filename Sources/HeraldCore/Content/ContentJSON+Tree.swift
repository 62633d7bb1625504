/// The content types read from a `JSONTree` (keys as in their `CodingKeys`).
/// Wrong types read as absent; a missing required member makes the whole value nil.
public protocol JSONTreeReadable {
    init?(tree: JSONTree)
}

extension JSONTree {
    func strings(_ key: String) -> [String]? { self[key]?.array?.compactMap(\.string) }

    func list<T: JSONTreeReadable>(_ key: String, _ type: T.Type) -> [T]? {
        guard let elements = self[key]?.array else { return nil }
        let values = elements.compactMap(T.init(tree:))
        return values.count == elements.count ? values : nil
    }

    func stringMap(_ key: String) -> [String: String]? {
        guard case .object(let members)? = self[key] else { return nil }
        var map: [String: String] = [:]
        for member in members { map[member.key] = member.value.string }
        return map
    }
}

extension RCSContent: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard case .object = tree else { return nil }
        self.init(text: tree["text"]?.string, media: tree["media"].flatMap(RCSMedia.init(tree:)),
                  card: tree["card"].flatMap(RCSCard.init(tree:)), carousel: tree["carousel"].flatMap(RCSCarousel.init(tree:)),
                  templateID: tree["template_id"]?.string, placeholders: tree.stringMap("placeholders"),
                  suggestions: tree.list("suggestions", RCSSuggestion.self), fallbackSMS: tree["fallback_sms"]?.string,
                  fallbackMMS: tree["fallback_mms"].flatMap(RCSFallbackMMS.init(tree:)))
    }
}

extension RCSMedia: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let url = tree["url"]?.string else { return nil }
        self.init(url: url, thumbnailURL: tree["thumbnail_url"]?.string, filename: tree["filename"]?.string,
                  height: tree["height"]?.string)
    }
}

extension RCSCard: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard case .object = tree else { return nil }
        self.init(title: tree["title"]?.string, description: tree["description"]?.string,
                  media: tree["media"].flatMap(RCSMedia.init(tree:)), orientation: tree["orientation"]?.string,
                  thumbnailAlignment: tree["thumbnail_alignment"]?.string, suggestions: tree.list("suggestions", RCSSuggestion.self))
    }
}

extension RCSCarousel: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let cards = tree.list("cards", RCSCard.self) else { return nil }
        self.init(width: tree["width"]?.string, cards: cards)
    }
}

extension RCSFallbackMMS: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let url = tree["media_url"]?.string else { return nil }
        self.init(body: tree["body"]?.string, mediaURL: url, subject: tree["subject"]?.string)
    }
}

extension RCSSuggestion: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let type = tree["type"]?.string.flatMap(Kind.init(rawValue:)), let text = tree["text"]?.string else { return nil }
        self.init(type: type, text: text, postback: tree["postback"]?.string)
        url = tree["url"]?.string
        application = tree["application"]?.string
        webviewMode = tree["webview_mode"]?.string
        phone = tree["phone"]?.string
        latitude = tree["latitude"]?.string
        longitude = tree["longitude"]?.string
        label = tree["label"]?.string
        title = tree["title"]?.string
        description = tree["description"]?.string
        start = tree["start"]?.string
        end = tree["end"]?.string
    }
}

extension MMSContent: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let urls = tree.strings("media_urls") else { return nil }
        self.init(body: tree["body"]?.string, mediaURLs: urls)
    }
}

extension VoiceContent: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let body = tree["body"]?.string, let type = tree["text_type"]?.string else { return nil }
        self.init(body: body, textType: type)
    }
}

extension NotifyContent: JSONTreeReadable {
    public init?(tree: JSONTree) {
        guard let variables = tree.stringMap("variables") else { return nil }
        self.init(templateID: tree["template_id"]?.string, variables: variables)
    }
}
