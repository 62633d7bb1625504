import HeraldCore
import HeraldSettings

/// The content keys of a template, by channel:
/// - sms: `body`
/// - mms: `body` (optional) and `media_urls`
/// - voice: `body` and `body_type` (text or ssml)
/// - rcs: `rcs:` with one of `text`, `media`, `card`, `carousel`, `template_id`,
///   plus `suggestions`, and `fallback_sms` or `fallback_mms` beside it
/// - notify-text, notify-voice: `notify_template_id` (optional); every variable
///   goes to the provider as a template variable
enum ContentFile {
    static func keys(_ channel: Channel) -> [String] {
        switch channel {
        case .sms: return ["body"]
        case .mms: return ["body", "media_urls"]
        case .voice: return ["body", "body_type"]
        case .rcs: return ["rcs", "fallback_sms", "fallback_mms"]
        case .notifyText, .notifyVoice: return ["notify_template_id"]
        }
    }

    /// The key errors about the content point at.
    static func contentKey(_ channel: Channel) -> String {
        switch channel {
        case .sms, .mms, .voice: return "body"
        case .rcs: return "rcs"
        case .notifyText, .notifyVoice: return "variables"
        }
    }

    static func layout(_ top: YAMLMap, channel: Channel, variables: [String]) throws(InputError) -> ContentLayout {
        switch channel {
        case .sms:
            return .text
        case .mms:
            guard let urls = try top.strings("media_urls"), !urls.isEmpty else {
                throw InputError(file: top.file, line: top.line, "missing required key \"media_urls\" (an MMS carries media)")
            }
            return .mms(MMSContent(body: try top.string("body"), mediaURLs: urls))
        case .voice:
            let type = try fixedUppercase(top, "body_type") ?? "TEXT"
            guard type == "TEXT" || type == "SSML" else { throw top.error("body_type", "must be text or ssml") }
            return .voice(VoiceContent(body: try top.requiredString("body"), textType: type))
        case .notifyText, .notifyVoice:
            guard !variables.isEmpty else {
                throw InputError(file: top.file, line: top.line, "a Notify template needs variables: they are its TemplateVariables")
            }
            let values = Dictionary(uniqueKeysWithValues: variables.map { ($0, "<\($0)>") })
            return .notify(NotifyContent(templateID: try top.string("notify_template_id"), variables: values))
        case .rcs:
            guard let map = try top.map("rcs") else {
                throw InputError(file: top.file, line: top.line, "missing required key \"rcs\" (text, media, card, carousel or template_id)")
            }
            var content = try rcs(map, variables: variables)
            content.fallbackSMS = try top.string("fallback_sms")
            if let mms = try top.map("fallback_mms") {
                try mms.onlyKeys(["body", "media_url", "subject"])
                guard top.node("fallback_sms") == nil else {
                    throw top.error("fallback_mms", "choose fallback_sms or fallback_mms, not both")
                }
                content.fallbackMMS = RCSFallbackMMS(body: try mms.string("body"), mediaURL: try mms.requiredString("media_url"),
                                                     subject: try mms.string("subject"))
            }
            return .rcs(content)
        }
    }

    private static func rcs(_ map: YAMLMap, variables: [String]) throws(InputError) -> RCSContent {
        try map.onlyKeys(["text", "media", "card", "carousel", "template_id", "suggestions"])
        let present = map.keys.filter { ["text", "media", "card", "carousel", "template_id"].contains($0) }
        guard present.count == 1 else {
            throw InputError(file: map.file, line: map.line,
                             "rcs: needs exactly one of text, media, card, carousel, template_id (found: \(present.isEmpty ? "none" : present.joined(separator: ", ")))")
        }
        var content = RCSContent()
        content.text = try map.string("text")
        if let media = try map.map("media") { content.media = try self.media(media, inCard: false) }
        if let card = try map.map("card") { content.card = try self.card(card, inCarousel: false) }
        if let carousel = try map.map("carousel") {
            try carousel.onlyKeys(["width", "cards"])
            guard let cards = try carousel.maps("cards") else {
                throw InputError(file: carousel.file, line: carousel.line, "missing required key \"rcs.carousel.cards\"")
            }
            guard (2...10).contains(cards.count) else {
                throw carousel.error("cards", "\(cards.count) cards; a carousel has 2 to 10")
            }
            content.carousel = RCSCarousel(width: try fixedUppercase(carousel, "width"),
                                           cards: try cards.map { (card: YAMLMap) throws(InputError) in try self.card(card, inCarousel: true) })
        }
        if let id = try map.string("template_id") {
            content.templateID = id
            content.placeholders = Dictionary(uniqueKeysWithValues: variables.map { ($0, "<\($0)>") })
        }
        content.suggestions = try suggestions(map)
        return content
    }

    private static func media(_ map: YAMLMap, inCard: Bool) throws(InputError) -> RCSMedia {
        try map.onlyKeys(inCard ? ["url", "thumbnail_url", "filename", "height"] : ["url", "thumbnail_url", "filename"])
        return RCSMedia(url: try map.requiredString("url"), thumbnailURL: try map.string("thumbnail_url"),
                        filename: try map.string("filename"), height: try fixedUppercase(map, "height"))
    }

    private static func card(_ map: YAMLMap, inCarousel: Bool) throws(InputError) -> RCSCard {
        try map.onlyKeys(inCarousel ? ["title", "description", "media", "suggestions"]
                                    : ["title", "description", "media", "orientation", "thumbnail_alignment", "suggestions"])
        var card = RCSCard(title: try map.string("title"), description: try map.string("description"),
                           orientation: try fixedUppercase(map, "orientation"),
                           thumbnailAlignment: try fixedUppercase(map, "thumbnail_alignment"))
        if let media = try map.map("media") { card.media = try self.media(media, inCard: true) }
        card.suggestions = try suggestions(map)
        return card
    }

    private static func suggestions(_ map: YAMLMap) throws(InputError) -> [RCSSuggestion]? {
        guard let list = try map.maps("suggestions") else { return nil }
        return try list.map { (item: YAMLMap) throws(InputError) -> RCSSuggestion in
            let typeName = try item.requiredString("type")
            guard let type = RCSSuggestion.Kind(rawValue: typeName) else {
                throw item.error("type", "\(typeName.quoted) is not a suggestion type (\(RCSSuggestion.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            try item.onlyKeys(RCSSuggestion.allowedKeys(type))
            for key in RCSSuggestion.requiredKeys(type) where item.node(key) == nil {
                throw InputError(file: item.file, line: item.line, "\(item.path): a \(typeName) suggestion needs \"\(key)\"")
            }
            var suggestion = RCSSuggestion(type: type, text: try item.requiredString("text"), postback: try item.string("postback"))
            suggestion.url = try item.string("url")
            suggestion.application = try fixedUppercase(item, "application")
            suggestion.webviewMode = try fixedUppercase(item, "webview_mode")
            suggestion.phone = try item.string("phone")
            suggestion.latitude = try item.string("latitude")
            suggestion.longitude = try item.string("longitude")
            suggestion.label = try item.string("label")
            suggestion.title = try item.string("title")
            suggestion.description = try item.string("description")
            suggestion.start = try item.string("start")
            suggestion.end = try item.string("end")
            return suggestion
        }
    }

    /// An enumerated value (`short`, `vertical`) written in any case, as providers spell it.
    private static func fixedUppercase(_ map: YAMLMap, _ key: String) throws(InputError) -> String? {
        guard let value = try map.string(key) else { return nil }
        return ContentTemplate.placeholders(in: value) == nil ? value.uppercased() : value
    }
}
