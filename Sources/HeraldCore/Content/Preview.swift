import Foundation

/// What `herald preview` shows: chosen rows of the CSV as they would be sent (the rendered
/// message, its encoding, characters, parts, cost, provider and sender) or why they would be
/// skipped. Computed offline, as `estimate` does: nothing is sent or written.
public struct Preview: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public let line: Int
        public var phone: String?
        public var country: String?
        /// `send`, or the reason it would be skipped (`duplicate`, `filtered`, `bad_number`, ...).
        public var status: String
        public var detail: String?
        public var channel: String
        /// The SMS text, or the rendered content as JSON for other channels.
        public var body: String?
        /// For SMS: each part's text, as the parts are counted (by code point, or by grapheme
        /// for a provider that packs so).
        public var partTexts: [String]?
        public var encoding: String?
        public var characters: Int?
        public var parts: Int?
        public var cost: Money?
        public var provider: String?
        /// The identity of the provider's sender pool it would go from: the one the journal remembers for the
        /// recipient (sticky sender) where the pool holds it, else the first of its preference.
        public var sender: String?
        /// The template variant's language (`language:`); nil for a template without.
        public var language: String?

        public init(line: Int, phone: String?, country: String?, status: String, channel: String) {
            self.line = line
            self.phone = phone
            self.country = country
            self.status = status
            self.channel = channel
        }

        enum CodingKeys: String, CodingKey {
            case line, phone, country, status, detail, channel, body, encoding, characters, parts, cost, provider, sender, language
            case partTexts = "part_texts"
        }
    }

    public let campaign: String
    public var rows: [Row] = []
    /// Data rows in the CSV.
    public var total = 0
    /// How the rows were chosen: `rows` (by line) or `sample`.
    public var chosenBy: String

    public init(campaign: String, chosenBy: String) {
        self.campaign = campaign
        self.chosenBy = chosenBy
    }

    enum CodingKeys: String, CodingKey {
        case campaign, rows, total
        case chosenBy = "chosen_by"
    }
}

