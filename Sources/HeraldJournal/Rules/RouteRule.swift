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

/// The senders of each route of a campaign: the one a suppression may be scoped to (AWS
/// `origination_identity`, Agile `agent_id`, ...; "" for none), or the pool of identities a row
/// is sent from (`senders:`). A row is checked against the list for every sender and against
/// each sender its route may use: an opt-out from one number of a pool holds for the pool.
public struct SenderScopes: Sendable, Equatable, ExpressibleByStringLiteral {
    public let byRoute: [String]
    /// The pool of each route, where it has one (indexed like `byRoute`).
    public let pools: [SenderPool?]

    public init(_ byRoute: [String], pools: [SenderPool?] = []) {
        self.byRoute = byRoute.isEmpty ? [""] : byRoute
        self.pools = pools
    }
    public init(stringLiteral value: String) { self.init([value]) }

    /// The sender of the route a row takes (the first route's for an index out of range).
    public func scope(route: Int) -> String { byRoute.indices.contains(route) ? byRoute[route] : byRoute[0] }

    /// Every sender a row of `route` may go from: its pool's identities, or its one sender.
    public func scopes(route: Int) -> [String] {
        if let pool = pool(route: route) { return pool.identities.map(\.id) }
        return [scope(route: route)]
    }

    /// The pool of `route`, if it has one.
    public func pool(route: Int) -> SenderPool? { pools.indices.contains(route) ? pools[route] : nil }

    public var hasPools: Bool { pools.contains { $0 != nil } }

    /// Every sender named, once each.
    public var distinct: [String] {
        var seen = Set<String>()
        return (byRoute + pools.flatMap { $0?.identities.map(\.id) ?? [] }).filter { seen.insert($0).inserted }
    }
}
