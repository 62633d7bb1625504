import Foundation
import HeraldCore
@testable import HeraldProviders

/// Messages and templates shared by the provider tests.
enum RCSFixtures {
    /// A card with every kind of suggestion, as a row renders it.
    static let card = RCSContent(
        card: RCSCard(title: "Your appointment, Ada", description: "Tue 09:30 at Riverside",
                      media: RCSMedia(url: "https://example.com/clinic.jpg", thumbnailURL: "https://example.com/t.jpg",
                                      height: "TALL"),
                      orientation: "HORIZONTAL", thumbnailAlignment: "LEFT",
                      suggestions: [
                          RCSSuggestion(type: .reply, text: "Confirm", postback: "confirm-RV1234"),
                          suggestion(.openURL, "Directions") {
                              $0.url = "https://example.com/map"
                              $0.application = "WEBVIEW"
                              $0.webviewMode = "HALF"
                          },
                          suggestion(.showLocation, "Where") {
                              $0.latitude = "51.5072"
                              $0.longitude = "-0.1276"
                              $0.label = "Clinic"
                          },
                          suggestion(.calendar, "Add") {
                              $0.title = "Appointment"
                              $0.start = "2030-03-03T15:00:00Z"
                              $0.end = "2030-03-03T16:00:00.000+01:00"
                              $0.description = "Bring your card"
                          },
                      ]),
        suggestions: [suggestion(.dial, "Call us") { $0.phone = "+12025550100" }],
        fallbackSMS: "Hi Ada, Tue 09:30 at Riverside")

    static let carousel = RCSContent(carousel: RCSCarousel(width: "SMALL", cards: [
        RCSCard(title: "One", description: "First", media: RCSMedia(url: "https://example.com/1.jpg", height: "SHORT"),
                suggestions: [RCSSuggestion(type: .reply, text: "Pick 1")]),
        RCSCard(title: "Two", description: "Second", media: RCSMedia(url: "https://example.com/2.jpg"),
                suggestions: [suggestion(.requestLocation, "Near me")]),
    ]))

    static func suggestion(_ type: RCSSuggestion.Kind, _ text: String, _ fill: (inout RCSSuggestion) -> Void = { _ in })
        -> RCSSuggestion
    {
        var suggestion = RCSSuggestion(type: type, text: text)
        fill(&suggestion)
        return suggestion
    }

    static func json<T: Encodable>(_ value: T) -> String {
        String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }

    static func message(_ content: some Encodable, channel: Channel = .rcs, row: Int = 7, digits: UInt64 = 447700900123,
                        dryRun: Bool = false) -> OutboundMessage {
        OutboundMessage(campaign: "spring", row: row, destination: PhoneNumber(digits: digits, region: "GB"), channel: channel,
                        body: json(content), parts: 1, dryRun: dryRun)
    }
}
