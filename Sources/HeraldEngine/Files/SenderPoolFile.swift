import Foundation
import HeraldCore
import HeraldJournal
import HeraldProviders
import HeraldSettings

/// `senders:` and `geomatch:` in a `provider:` mapping or a `providers:` entry: the pool of
/// identities its rows go from, each with its own rate and daily cap.
enum SenderPoolFile {
    static let keys: Set<String> = ["senders", "geomatch"]
    static let identityKeys = ["id", "messages_per_second", "burst", "daily_cap", "country"]

    /// The pool a provider mapping names, and the mapping its provider reads: without the pool's
    /// keys, its sender setting (`from`, `origination_identity`) set to the pool's first identity,
    /// so the provider's own checks and default sender hold.
    static func parse(_ map: YAMLMap) throws(InputError) -> (settings: YAMLMap, pool: SenderPool?) {
        guard let node = map.node("senders") else {
            if map.node("geomatch") != nil { throw map.error("geomatch", "geomatch needs a senders: list") }
            return (map, nil)
        }
        let name = try map.string("kind") ?? ProviderKind.simulator.name
        guard let kind = Providers.named(name) else { return (map.removing(keys), nil) }  // its parse names the mistake
        guard let field = kind.senderField else {
            let pooled = Providers.all.filter { $0.senderField != nil }.map(\.name).joined(separator: ", ")
            throw map.error("senders", "\(name) takes no sender pool (\(pooled) do)")
        }
        if map.node(field.key) != nil {
            throw map.error(field.key, "give either \(field.key) (one sender) or senders: (a pool), not both")
        }
        guard case .sequence = node, let entries = try map.maps("senders"), !entries.isEmpty else {
            throw map.error("senders", "expected a list of senders, each with id: and optionally messages_per_second:, burst:, daily_cap:, country:")
        }
        guard entries.count <= SenderPool.limit else {
            throw map.error("senders", "at most \(SenderPool.limit) senders in one pool (found \(entries.count))")
        }
        var identities: [SenderPool.Identity] = []
        for entry in entries {
            try entry.onlyKeys(identityKeys)
            guard let id = try entry.setting("id", allowed: field.allowed, max: field.max) else {
                throw entry.missing("id", "the sender's \(field.key) as \(name) takes it")
            }
            if identities.contains(where: { $0.id == id }) { throw entry.error("id", "\(id.quoted) is listed twice") }
            let rate = try entry.double("messages_per_second", in: 0.001...1_000_000)
            let burst = try entry.double("burst", in: 0...1_000_000)
            if burst != nil, rate == nil { throw entry.error("burst", "burst needs messages_per_second") }
            var country: String?
            if let code = try entry.string("country") {
                let upper = code.uppercased()
                guard upper.count == 2, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                    throw entry.error("country", "\(code.quoted) is not an ISO 3166 alpha-2 code such as GB or US")
                }
                country = upper
            }
            identities.append(SenderPool.Identity(id: id, provider: name, messagesPerSecond: rate, burst: burst ?? 0,
                                                  dailyCap: try entry.int("daily_cap", in: 1...Int(Int32.max)), country: country))
        }
        let geomatch = try map.bool("geomatch") ?? false
        if geomatch, !identities.contains(where: { $0.country != nil }) {
            throw map.error("geomatch", "geomatch needs a country: on at least one sender")
        }
        let settings = map.removing(keys).adding(field.key, identities[0].id, line: map.line(of: "senders"))
        return (settings, SenderPool(identities: identities, geomatch: geomatch))
    }
}
