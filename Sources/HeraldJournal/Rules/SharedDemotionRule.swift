import Foundation

/// A provider of a campaign demoted by one of its senders (`ProviderHealth`), kept with the
/// campaign in the journal so that every sender of it leaves the provider alone until the
/// cool-down ends. On PostgreSQL several senders share a campaign: without this each would
/// learn of an outage from its own failures (and on SQLite, where one sender holds a campaign at
/// a time, the next run picks up a cool-down the last one started).
public struct SharedDemotion: Sendable, Equatable, Codable {
    /// The provider: its index in the campaign's `providers:` list.
    public let route: Int
    /// When the cool-down ends (milliseconds since 1970).
    public let until: Int64
    public let reason: String

    public init(route: Int, until: Int64, reason: String) {
        self.route = route
        self.until = until
        self.reason = String(reason.prefix(SharedDemotionRule.maxReason))
    }
}

/// How the journal keeps demotions: per provider the one that ends last, dropped once it has
/// ended; stored as a small JSON list on the campaign, read back range-checked.
public enum SharedDemotionRule {
    /// Characters of a reason kept.
    public static let maxReason = 200

    /// `stored` with `new` added at `now`: one entry per provider (the later end), none that has
    /// ended, in provider order.
    public static func merged(_ stored: [SharedDemotion], adding new: [SharedDemotion], at now: Int64) -> [SharedDemotion] {
        var byRoute: [Int: SharedDemotion] = [:]
        for demotion in stored + new where demotion.until > now {
            if let kept = byRoute[demotion.route], kept.until >= demotion.until { continue }
            byRoute[demotion.route] = demotion
        }
        return byRoute.keys.sorted().compactMap { byRoute[$0] }
    }

    /// The stored text as demotions: anything but a list of demotions of a route below
    /// `RouteIndex.limit` reads as none (the column is the journal's own, but nothing read
    /// back from a journal may trap a reader or point past the campaign's providers).
    public static func decode(_ text: String?) -> [SharedDemotion] {
        guard let text, text.utf8.count <= 64 * 1024, let data = text.data(using: .utf8),
              let list = try? JSONDecoder().decode([SharedDemotion].self, from: data)
        else { return [] }
        return list.filter { (0..<RouteIndex.limit).contains($0.route) }.map {
            SharedDemotion(route: $0.route, until: $0.until, reason: $0.reason)
        }
    }

    public static func encode(_ demotions: [SharedDemotion]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(demotions)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
