/// How a campaign with several providers (`providers:` in the campaign file) picks the one a
/// row goes through.
public enum RoutingStrategy: String, Sendable, CaseIterable, Codable {
    /// The first provider, in the file's order, that fits the row.
    case ordered
    /// The provider that fits the row and charges least for it (its own price book and its
    /// own part count); on a tie, the first in the file's order.
    case leastCost = "least_cost"
    /// Among the providers that fit the row, one chosen by weight: each row's share is drawn
    /// from its line number, so the same file routes the same way on every import.
    case weighted
}

/// A provider that fits a row: its index in the campaign's `providers:` list, what the row
/// costs through it (nano-dollars, its parts priced by its book), and its weight.
public struct RouteCandidate: Sendable, Equatable {
    public let route: Int
    public let cost: Int64
    public let weight: Int

    public init(route: Int, cost: Int64, weight: Int = 1) {
        self.route = route
        self.cost = cost
        self.weight = weight
    }
}

/// The route a row takes, the same decision wherever it is made: the provider is chosen once,
/// from the providers that fit the row, and recorded on the row with the parts and cost it
/// charges. Every later step (the claim's reservation, MaxPrice, the send, the report) reads
/// the recorded route; nothing guesses it again.
public struct RouteRule: Sendable, Equatable {
    public let strategy: RoutingStrategy

    public init(strategy: RoutingStrategy) { self.strategy = strategy }

    /// The candidate chosen for the row on CSV line `line`, or nil when none fits.
    /// `candidates` are in the file's order.
    public func choose(_ candidates: [RouteCandidate], line: Int) -> RouteCandidate? {
        guard var best = candidates.first else { return nil }
        switch strategy {
        case .ordered:
            return best
        case .leastCost:
            for candidate in candidates.dropFirst() where candidate.cost < best.cost { best = candidate }
            return best
        case .weighted:
            var total: UInt64 = 0
            for candidate in candidates { total &+= UInt64(max(0, candidate.weight)) }
            guard total > 0 else { return best }
            var point = Self.mix(UInt64(truncatingIfNeeded: line)) % total
            for candidate in candidates {
                let weight = UInt64(max(0, candidate.weight))
                if point < weight { return candidate }
                point -= weight
            }
            return best
        }
    }

    /// SplitMix64's finaliser: line numbers spread evenly over the weights.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A route read back from a journal: an index in the campaign's `providers:` list (at most
/// 32 entries). Anything else (a hand-edited journal) reads as the first provider's, never a trap.
public enum RouteIndex {
    public static let limit = 32

    public static func checked(_ stored: Int64) -> Int {
        stored >= 0 && stored < Int64(limit) ? Int(stored) : 0
    }
}

/// The sender a suppression may be scoped to, for each route of a campaign (AWS
/// `origination_identity`, Agile `agent_id`, ...; "" for none): a row is checked against the
/// list for every sender and against its own route's sender.
public struct SenderScopes: Sendable, Equatable, ExpressibleByStringLiteral {
    public let byRoute: [String]

    public init(_ byRoute: [String]) { self.byRoute = byRoute.isEmpty ? [""] : byRoute }
    public init(stringLiteral value: String) { self.init([value]) }

    /// The sender of the route a row takes (the first route's for an index out of range).
    public func scope(route: Int) -> String { byRoute.indices.contains(route) ? byRoute[route] : byRoute[0] }

    /// Every sender named, once each.
    public var distinct: [String] {
        var seen = Set<String>()
        return byRoute.filter { seen.insert($0).inserted }
    }
}
