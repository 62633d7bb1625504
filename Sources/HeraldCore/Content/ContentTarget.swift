import Foundation

/// What one provider accepts: its name (in messages), the channels it sends and its RCS
/// limits. Each provider declares its own (`ContentTarget.aws` in the AWS folder); the
/// rules read these values and never a provider's name.
public struct ContentTarget: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    /// Channels the provider can send.
    public let channels: [Channel]
    public let rcs: RCSRules
    public let mms: MMSRules
    /// How its SMS parts are counted, as it bills them.
    public let smsPacking: SMSPacking

    public init(name: String, channels: [Channel], rcs: RCSRules = RCSRules(), mms: MMSRules = MMSRules(),
                smsPacking: SMSPacking = .codePoints) {
        self.name = name
        self.channels = channels
        self.rcs = rcs
        self.mms = mms
        self.smsPacking = smsPacking
    }

    public var description: String { name }
}

/// MMS limits where providers differ; the defaults are AWS's (one S3 object).
public struct MMSRules: Sendable, Hashable {
    public var mediaSchemes = ["s3://"]
    public var maxMedia = 1

    public init(mediaSchemes: [String] = ["s3://"], maxMedia: Int = 1) {
        self.mediaSchemes = mediaSchemes
        self.maxMedia = maxMedia
    }
}

/// RCS limits where providers differ; the defaults are the most lenient of them.
public struct RCSRules: Sendable, Hashable {
    /// Characters of a text message.
    public var textMax = Int.max
    /// The widths a carousel may name; nil: not checked.
    public var carouselWidths: [String]?
    /// Message-level suggestions may follow a carousel.
    public var suggestionsUnderCarousel = true
    /// A message may name a provider-side template (`template_id`).
    public var providerTemplates = true
    /// Message kinds whose message-level suggestions the provider puts on the card
    /// (which then takes at most 4 with its own).
    public var suggestionsOnCard: Set<RCSContent.Kind> = []
    /// Characters of `fallback_sms`.
    public var fallbackSMSMax = 1600
    /// What a `fallback_mms` must hold; nil: the provider has none.
    public var mmsFallback: MMSFallback? = MMSFallback()
    /// URL schemes of media (files and thumbnails).
    public var mediaSchemes = ["https://", "http://"]
    /// Media outside a card needs a thumbnail and a file name.
    public var standaloneMediaNeedsThumbnailAndFilename = false
    public var cardTitleMax = 100
    public var cardDescriptionMax = 500
    /// A card needs a title, a description and media.
    public var cardNeedsEverything = false
    /// A carousel's cards may hold TALL media.
    public var tallMediaInCarousel = true
    /// The `request_location` suggestion.
    public var requestLocation = true
    /// URL schemes of an `open_url` suggestion.
    public var openURLSchemes = ["https://", "http://"]

    public struct MMSFallback: Sendable, Hashable {
        public var bodyMax = 1600
        public var bodyRequired = false
        public var mediaSchemes = ["s3://"]
        /// Characters of the subject, which is then required; nil: no subject is checked.
        public var subjectMax: Int?

        public init(bodyMax: Int = 1600, bodyRequired: Bool = false, mediaSchemes: [String] = ["s3://"], subjectMax: Int? = nil) {
            self.bodyMax = bodyMax
            self.bodyRequired = bodyRequired
            self.mediaSchemes = mediaSchemes
            self.subjectMax = subjectMax
        }
    }

    public init() {}
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
