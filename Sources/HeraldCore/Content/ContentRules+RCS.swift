/// RCS limits. Where providers differ, the target's `RCSRules` say how (each provider's
/// folder sets them from its documentation). All: carousels of 2-10 cards, at most 4
/// suggestions per card, button labels of 25 characters and postback data of 2048.
extension ContentRules {
    static let heights = ["SHORT", "MEDIUM", "TALL"]

    mutating func check(rcs: RCSContent) {
        let path = "rcs"
        guard let kind = rcs.kind else {
            issue(path, "needs exactly one of text, media, card, carousel, template_id")
            return
        }
        switch kind {
        case .text:
            text("\(path).text", rcs.text, 1...target.rcs.textMax, required: true)
        case .media:
            if let media = rcs.media { check(media: media, path: "\(path).media", inCard: false) }
        case .card:
            if let card = rcs.card { check(card: card, path: "\(path).card", inCarousel: false) }
        case .carousel:
            guard let carousel = rcs.carousel else { break }
            if carousel.cards.count < 2 || carousel.cards.count > 10 {
                issue("\(path).carousel.cards", "\(carousel.cards.count) cards; a carousel has 2 to 10")
            }
            if let widths = target.rcs.carouselWidths { oneOf("\(path).carousel.width", carousel.width, widths) }
            for (index, card) in carousel.cards.enumerated() {
                check(card: card, path: "\(path).carousel.cards[\(index)]", inCarousel: true)
            }
            if rcs.suggestions?.isEmpty == false, !target.rcs.suggestionsUnderCarousel {
                issue("\(path).suggestions", "\(target.name) takes no suggestions under a carousel; put them on its cards")
            }
        case .template:
            guard target.rcs.providerTemplates else {
                issue("\(path).template_id", "a provider-side template is an Agile Telecom feature; \(target.name) has none")
                break
            }
            if let id = rcs.templateID, known(id), Int(id) == nil {
                issue("\(path).template_id", "\"\(id.clippedForIssue)\" is not a whole number (Agile template ids are integers)")
            }
            if rcs.suggestions?.isEmpty == false {
                issue("\(path).suggestions", "a provider-side template brings its own suggestions")
            }
        }
        count("\(path).suggestions", rcs.suggestions, max: 11, what: "suggestions")
        // Agile and v5 put message-level suggestions on the card itself (Agile sends media as a card).
        if target.rcs.suggestionsOnCard.contains(kind) {
            let onCard = (rcs.card?.suggestions?.count ?? 0) + (rcs.suggestions?.count ?? 0)
            if onCard > 4 {
                issue("\(path).suggestions", "\(onCard) suggestions with the card's own; \(target.name) puts them on the card, which takes at most 4")
            }
        }
        for (index, suggestion) in (rcs.suggestions ?? []).enumerated() {
            check(suggestion: suggestion, path: "\(path).suggestions[\(index)]")
        }
        if let fallback = rcs.fallbackSMS {
            text("fallback_sms", fallback, 1...target.rcs.fallbackSMSMax, required: true)
        }
        if let mms = rcs.fallbackMMS {
            if rcs.fallbackSMS != nil { issue("fallback_mms", "choose fallback_sms or fallback_mms, not both") }
            guard let rules = target.rcs.mmsFallback else {
                issue("fallback_mms", "\(target.name) has no MMS fallback; use fallback_sms")
                return
            }
            text("fallback_mms.body", mms.body, 1...rules.bodyMax, required: rules.bodyRequired)
            url("fallback_mms.media_url", mms.mediaURL, schemes: rules.mediaSchemes, max: 2048, required: true)
            if let subjectMax = rules.subjectMax { text("fallback_mms.subject", mms.subject, 1...subjectMax, required: true) }
        }
    }

    private mutating func check(media: RCSMedia, path: String, inCard: Bool) {
        let schemes = target.rcs.mediaSchemes
        url("\(path).url", media.url, schemes: schemes, max: 2000, required: true)
        url("\(path).thumbnail_url", media.thumbnailURL, schemes: schemes, max: 2000)
        if target.rcs.standaloneMediaNeedsThumbnailAndFilename, !inCard {
            if media.thumbnailURL == nil { issue("\(path).thumbnail_url", "required by \(target.name) for a media message") }
            if media.filename == nil { issue("\(path).filename", "required by \(target.name) for a media message") }
        }
        text("\(path).filename", media.filename, 1...100)
        if inCard {
            oneOf("\(path).height", media.height, Self.heights)
        } else if media.height != nil {
            issue("\(path).height", "only media in a card has a height")
        }
    }

    private mutating func check(card: RCSCard, path: String, inCarousel: Bool) {
        let (titleMax, descriptionMax) = (target.rcs.cardTitleMax, target.rcs.cardDescriptionMax)
        let needsAll = target.rcs.cardNeedsEverything
        text("\(path).title", card.title, 1...titleMax, required: needsAll)
        text("\(path).description", card.description, 1...descriptionMax, required: needsAll)
        if let media = card.media {
            check(media: media, path: "\(path).media", inCard: true)
            if inCarousel, !target.rcs.tallMediaInCarousel, media.height == "TALL" {
                issue("\(path).media.height", "TALL is not allowed in a carousel (SHORT or MEDIUM)")
            }
        } else if needsAll {
            issue("\(path).media", "required by \(target.name) for cards")
        }
        if card.title == nil, card.description == nil, card.media == nil {
            issue(path, "a card needs at least a title, a description or media")
        }
        if inCarousel {
            if card.orientation != nil { issue("\(path).orientation", "carousel cards have no orientation; set carousel.width") }
        } else {
            oneOf("\(path).orientation", card.orientation, ["VERTICAL", "HORIZONTAL"])
            oneOf("\(path).thumbnail_alignment", card.thumbnailAlignment, ["LEFT", "RIGHT"])
            if card.thumbnailAlignment != nil, card.orientation != "HORIZONTAL" {
                issue("\(path).thumbnail_alignment", "only a HORIZONTAL card aligns its thumbnail")
            }
        }
        count("\(path).suggestions", card.suggestions, max: 4, what: "suggestions")
        for (index, suggestion) in (card.suggestions ?? []).enumerated() {
            check(suggestion: suggestion, path: "\(path).suggestions[\(index)]")
        }
    }

    private mutating func check(suggestion: RCSSuggestion, path: String) {
        text("\(path).text", suggestion.text, 1...25, required: true)
        text("\(path).postback", suggestion.postbackData, 1...2048)
        switch suggestion.type {
        case .reply, .requestLocation:
            if suggestion.type == .requestLocation, !target.rcs.requestLocation {
                issue("\(path).type", "\(target.name) has no request_location suggestion")
            }
        case .openURL:
            url("\(path).url", suggestion.url, schemes: target.rcs.openURLSchemes, max: 2048,
                required: true)
            oneOf("\(path).application", suggestion.application, ["BROWSER", "WEBVIEW"])
            oneOf("\(path).webview_mode", suggestion.webviewMode, ["FULL", "HALF", "TALL"])
        case .dial:
            phone("\(path).phone", suggestion.phone, max: 20)
        case .showLocation:
            number("\(path).latitude", suggestion.latitude, -90...90)
            number("\(path).longitude", suggestion.longitude, -180...180)
            text("\(path).label", suggestion.label, 1...100)
        case .calendar:
            text("\(path).title", suggestion.title, 1...100, required: true)
            text("\(path).description", suggestion.description, 1...500)
            let start = date("\(path).start", suggestion.start)
            let end = date("\(path).end", suggestion.end)
            if let start, let end, end < start {
                issue("\(path).end", "the event ends before it starts")
            }
        }
    }
}
