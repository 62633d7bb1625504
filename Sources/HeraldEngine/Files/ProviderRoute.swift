import Foundation
import HeraldCore
import HeraldJournal
import HeraldProviders
import HeraldSettings

/// One provider a campaign may send through: an entry of `providers:` (or the one
/// `provider:`), with the rows it takes and the prices it charges.
public struct ProviderRoute: Sendable, Equatable {
    /// How status, the report and `/metrics` name it; unique in the campaign.
    public var name: String
    public var provider: CampaignSpec.ProviderSpec
    /// Its own price book (absolute path); nil: the campaign's `prices:`.
    public var pricesPath: String?
    /// The countries (ISO 3166 alpha-2) whose numbers it takes; nil: every country.
    public var countries: Set<String>?
    /// The channels it takes; nil: every channel its provider sends.
    public var channels: Set<Channel>?
    /// Its share under `routing: weighted`.
    public var weight = 1
    /// The identities its rows go from (`senders:`), nil: its provider's one sender.
    public var pool: SenderPool?
    /// The line of its entry in the campaign file, for errors found later (a provider that fits no row).
    public var line: Int?
    /// `sms_fallback:`: the route (an index in the list) its RCS rows go to as SMS when a receipt
    /// proves the RCS message was not delivered (`RCSFallbackRule`).
    public var smsFallback: Int?
    /// How long a run waits, once nothing else is left to send, for the final receipts of the
    /// RCS rows it sent here (`sms_fallback_wait`, seconds); later ones are acted on by the next
    /// `herald resume`.
    public var smsFallbackWait = 600
    /// Named by another entry's `sms_fallback:`: it takes only the rows that fall back to it, as SMS.
    public var fallbackOnly = false

    public init(name: String, provider: CampaignSpec.ProviderSpec) {
        self.name = name
        self.provider = provider
    }

    /// Whether it takes numbers of `region` on `channel`.
    public func takes(region: String, channel: Channel) -> Bool {
        !fallbackOnly && (countries?.contains(region) ?? true) && (channels?.contains(channel) ?? true)
    }

    static let keys: Set<String> = ["name", "prices", "countries", "channels", "weight", "sms_fallback", "sms_fallback_wait"]

    /// Reads a `providers:` list: each entry is a `provider:` mapping plus the keys above.
    static func parse(_ entries: [YAMLMap], list top: YAMLMap, resolve: (String) -> String,
                      folder: URL) throws(InputError) -> [ProviderRoute] {
        guard !entries.isEmpty else { throw top.error("providers", "the list is empty: name at least one provider") }
        guard entries.count <= 32 else { throw top.error("providers", "at most 32 providers (found \(entries.count))") }
        var routes: [ProviderRoute] = []
        for entry in entries {
            let (map, pool) = try SenderPoolFile.parse(entry.removing(keys))
            let settings = try Providers.parse(map, folder: folder)
            var route = ProviderRoute(name: try entry.string("name") ?? settings.kind.name, provider: .init(settings))
            route.pool = pool
            route.line = entry.line
            guard CampaignSpec.isValidID(route.name) else {
                throw entry.error("name", "\(route.name.quoted) must be 1-64 letters, digits, dots, dashes or underscores")
            }
            if let earlier = routes.first(where: { $0.name == route.name }) {
                let place = earlier.line.map { " (line \($0))" } ?? ""
                throw entry.error("name", "\(route.name.quoted) names two providers\(place): give each entry its own name:")
            }
            if let prices = try entry.string("prices") { route.pricesPath = resolve(prices) }
            if let node = entry.node("weight") {
                guard let text = node.scalar?.string, let weight = Int(text), weight > 0, weight <= 1_000_000 else {
                    throw entry.error("weight", "\((node.scalar?.string ?? "?").quoted) must be a whole number from 1 to 1000000")
                }
                route.weight = weight
            }
            if let countries = try entry.strings("countries"), !countries.contains("*") {
                var codes = Set<String>()
                for country in countries {
                    let upper = country.uppercased()
                    guard upper.count == 2, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                        throw entry.error("countries", "\(country.quoted) is not an ISO 3166 alpha-2 code such as GB or US, nor *")
                    }
                    codes.insert(upper)
                }
                guard !codes.isEmpty else { throw entry.error("countries", "the list is empty: name countries, or * for every one") }
                route.countries = codes
            }
            if let channels = try entry.strings("channels") {
                var set = Set<Channel>()
                for name in channels {
                    guard let channel = Channel(rawValue: name) else {
                        throw entry.error("channels", "\(name.quoted) is not a channel (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    set.insert(channel)
                }
                guard !set.isEmpty else { throw entry.error("channels", "the list is empty") }
                route.channels = set
            }
            if let wait = try entry.int("sms_fallback_wait", in: 0...259_200) { route.smsFallbackWait = wait }
            routes.append(route)
        }
        try linkFallbacks(&routes, entries)
        return routes
    }

    /// `sms_fallback: NAME`: the entry it names exists, is another, sends SMS, and is no source
    /// itself; the entry that names it sends RCS its provider never falls back from.
    private static func linkFallbacks(_ routes: inout [ProviderRoute], _ entries: [YAMLMap]) throws(InputError) {
        for (index, entry) in entries.enumerated() {
            guard let name = try entry.string("sms_fallback") else {
                if entry.node("sms_fallback_wait") != nil { throw entry.error("sms_fallback_wait", "needs sms_fallback: in the same entry") }
                continue
            }
            guard let target = routes.firstIndex(where: { $0.name == name }) else {
                throw entry.error("sms_fallback", "\(name.quoted) names no entry of providers: (\(routes.map(\.name.quoted).joined(separator: ", ")))")
            }
            guard target != index else { throw entry.error("sms_fallback", "\(name.quoted) is this entry: name another provider") }
            guard routes[index].provider.settings.rcsFailureProof != nil else {
                throw entry.error("sms_fallback", "needs RCS that the provider never falls back from itself: kind aws with an RCS agent ARN "
                                  + "(arn:aws:sms-voice:REGION:ACCOUNT:rcs-agent/ID) as origination_identity (a pool falls back by itself), "
                                  + "or kind simulator with rcs_direct: true to rehearse it")
            }
            if let channels = routes[target].channels, !channels.contains(.sms) {
                throw entry.error("sms_fallback", "\(name.quoted) does not take sms (channels: \(channels.map(\.rawValue).sorted().joined(separator: ", ")))")
            }
            routes[index].smsFallback = target
            routes[index].provider = .init(routes[index].provider.settings.fallingBackElsewhere())
            routes[target].fallbackOnly = true
        }
        for (index, route) in routes.enumerated() where route.fallbackOnly && route.smsFallback != nil {
            throw entries[index].error("sms_fallback", "\(route.name.quoted) is another entry's sms_fallback: it cannot fall back itself")
        }
    }
}
