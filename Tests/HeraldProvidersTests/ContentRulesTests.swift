import Foundation
import Testing
@testable import HeraldCore
import HeraldProviders

/// Each provider's content rules (its `ContentTarget`), with the limits its documentation states.
@Suite struct ContentRulesTests {
    static func rcs(_ content: RCSContent, _ target: ContentTarget, rendered: Bool = true) -> [String] {
        ContentRules.check(.rcs(content), channel: .rcs, target: target, rendered: rendered).map(\.description)
    }

    static func button(_ type: RCSSuggestion.Kind, _ text: String = "Go", _ fill: (inout RCSSuggestion) -> Void = { _ in })
        -> RCSSuggestion
    {
        var suggestion = RCSSuggestion(type: type, text: text)
        fill(&suggestion)
        return suggestion
    }

    static func cards(_ count: Int) -> [RCSCard] {
        (0..<count).map { RCSCard(title: "Card \($0)", description: "d", media: RCSMedia(url: "https://e.com/\($0).jpg")) }
    }

    @Test(arguments: Providers.all.map(\.content).filter { $0.channels.contains(.rcs) })
    func aGoodCardPassesEverywhere(target: ContentTarget) {
        let card = RCSContent(card: RCSCard(
            title: "Title", description: "Description", media: RCSMedia(url: "https://example.com/a.jpg", height: "TALL"),
            suggestions: [Self.button(.reply), Self.button(.openURL) { $0.url = "https://example.com" },
                          Self.button(.dial) { $0.phone = "+12025550100" },
                          Self.button(.calendar) { $0.title = "T"; $0.start = "2030-03-03T15:00:00Z"; $0.end = "2030-03-03T16:00:00.000+01:00" }]),
            fallbackSMS: "Fallback")
        #expect(Self.rcs(card, target) == [])
    }

    @Test(arguments: [
        (RCSContent(text: "Hi", suggestions: [button(.reply, String(repeating: "x", count: 26))]), ContentTarget.aws,
         "rcs.suggestions[0].text: 26 characters; aws allows at most 25"),
        (RCSContent(carousel: RCSCarousel(cards: cards(1))), .agile, "rcs.carousel.cards: 1 cards; a carousel has 2 to 10"),
        (RCSContent(carousel: RCSCarousel(cards: cards(11))), .v5, "rcs.carousel.cards: 11 cards; a carousel has 2 to 10"),
        (RCSContent(text: "Hi", suggestions: [button(.requestLocation)]), .agile, "rcs.suggestions[0].type: agile has no request_location suggestion"),
        (RCSContent(media: RCSMedia(url: "https://e.com/a.mp4")), .v5, "rcs.media.thumbnail_url: required by v5 for a media message"),
        (RCSContent(media: RCSMedia(url: "http://e.com/a.mp4")), .aws, "rcs.media.url: \"http://e.com/a.mp4\" is not a URL starting with https:// or s3://"),
        (RCSContent(text: "Hi", fallbackSMS: String(repeating: "y", count: 161)), .v5, "fallback_sms: 161 characters; v5 allows at most 160"),
        (RCSContent(text: "Hi", suggestions: [button(.showLocation) { $0.latitude = "91"; $0.longitude = "0" }]), .aws,
         "rcs.suggestions[0].latitude: \"91\" is not a number from -90 to 90"),
        (RCSContent(text: "Hi", suggestions: [button(.calendar) { $0.title = "T"; $0.start = "tomorrow"; $0.end = "2030-03-03T16:00:00Z" }]), .agile,
         "rcs.suggestions[0].start: \"tomorrow\" is not an ISO 8601 date-time such as 2030-03-03T15:00:00Z"),
        (RCSContent(templateID: "42"), .aws, "rcs.template_id: a provider-side template is an Agile Telecom feature; aws has none"),
        (RCSContent(card: RCSCard(title: "T", description: "D")), .v5, "rcs.card.media: required by v5 for cards"),
        (RCSContent(carousel: RCSCarousel(cards: cards(2)), suggestions: [button(.reply)]), .v5,
         "rcs.suggestions: v5 takes no suggestions under a carousel; put them on its cards"),
        (RCSContent(card: RCSCard(title: "T", suggestions: (0..<5).map { _ in button(.reply) })), .aws,
         "rcs.card.suggestions: 5 suggestions; aws allows at most 4"),
        (RCSContent(text: "Hi", suggestions: [button(.dial) { $0.phone = "call us" }]), .v5,
         "rcs.suggestions[0].phone: \"call us\" is not a phone number in international format (+15550100)"),
        (RCSContent(text: "   "), .aws, "rcs.text: is empty"),
        (RCSContent(text: "Hi", fallbackMMS: RCSFallbackMMS(body: "b", mediaURL: "https://e.com/a.jpg", subject: nil)), .v5,
         "fallback_mms.subject: required"),
        (RCSContent(text: "Hi", fallbackMMS: RCSFallbackMMS(body: "b", mediaURL: "https://e.com/a.jpg", subject: nil)), .aws,
         "fallback_mms.media_url: \"https://e.com/a.jpg\" is not a URL starting with s3://"),
        (RCSContent(text: "Hi", fallbackMMS: RCSFallbackMMS(body: "b", mediaURL: "s3://b/a.jpg", subject: nil)), .agile,
         "fallback_mms: agile has no MMS fallback; use fallback_sms"),
        (RCSContent(card: RCSCard(title: "T", suggestions: (0..<3).map { _ in button(.reply) }),
                    suggestions: [button(.reply), button(.reply)]), .agile,
         "rcs.suggestions: 5 suggestions with the card's own; agile puts them on the card, which takes at most 4"),
        (RCSContent(media: RCSMedia(url: "HTTPS://E.COM/A.JPG")), .aws, "rcs.media.url: \"HTTPS://E.COM/A.JPG\" is not a URL starting with https:// or s3://"),
        (RCSContent(text: "a", card: RCSCard(title: "b")), .simulator, "rcs: needs exactly one of text, media, card, carousel, template_id"),
    ] as [(RCSContent, ContentTarget, String)])
    func eachRuleNamesTheFieldAndTheLimit(content: RCSContent, target: ContentTarget, expected: String) {
        #expect(Self.rcs(content, target).first == expected)
    }

    @Test func placeholdersAreCheckedOnceRendered() {
        let template = RCSContent(text: "Hi", suggestions: [Self.button(.reply, "<label>"), Self.button(.showLocation) {
            $0.latitude = "<lat>"
            $0.longitude = "200"
        }])
        #expect(Self.rcs(template, .aws, rendered: false) == ["rcs.suggestions[1].longitude: \"200\" is not a number from -180 to 180"])
    }

    @Test func channelsEachProviderSends() {
        #expect(ContentRules.check(.text, channel: .sms, target: .agile, rendered: false).map(\.description)
            == ["channel: provider agile cannot send sms (it sends: rcs)"])
        #expect(ContentRules.check(.voice(VoiceContent(body: "Hi", textType: "TEXT")), channel: .voice, target: .aws,
                                   rendered: true).isEmpty)
    }

    @Test func mmsVoiceAndNotifyLimits() {
        func issues(_ layout: ContentLayout, _ channel: Channel) -> [String] {
            ContentRules.check(layout, channel: channel, target: .aws, rendered: true).map(\.description)
        }
        #expect(issues(.mms(MMSContent(body: "Hi", mediaURLs: ["https://e.com/a.jpg"])), .mms)
            == ["mms.media_urls[0]: \"https://e.com/a.jpg\" is not a URL starting with s3://"])
        #expect(issues(.mms(MMSContent(body: nil, mediaURLs: ["s3://bucket/a.jpg", "s3://bucket/b.jpg"])), .mms)
            == ["mms.media_urls: 2 media URLs; aws allows at most 1"])
        #expect(issues(.voice(VoiceContent(body: String(repeating: "a", count: 6001), textType: "TEXT")), .voice)
            == ["voice.body: 6001 characters; aws allows at most 6000"])
        #expect(issues(.notify(NotifyContent(templateID: "bad id", variables: ["code": "1"])), .notifyText)
            == ["notify.template_id: \"bad id\" may hold only letters, digits, _ and -"])
        #expect(issues(.notify(NotifyContent(templateID: nil, variables: ["code": String(repeating: "9", count: 2049)])), .notifyVoice)
            == ["notify.variables.code: 2049 characters; aws allows at most 2048"])
    }
}
