import HeraldCore

/// Rows of a campaign by state, what those sent cost (herald's prices), and what their
/// receipts said: for one provider (`RouteTotals`) or one language (`LanguageTotals`).
public protocol RowTotals {
    var counts: [MessageState: Int] { get set }
    /// The cost of the rows sent or in doubt (nano-dollars).
    var cost: Int64 { get set }
    /// Receipts: delivered (fallback included) and undelivered, expired or unknown.
    var delivered: Int { get set }
    var undelivered: Int { get set }
}

extension RowTotals {
    public subscript(state: MessageState) -> Int { counts[state, default: 0] }

    /// Adds `count` rows in `state` costing `cost` in all, and the receipts among them.
    public mutating func add(state: MessageState, count: Int, cost: Int64, delivered: Int, undelivered: Int) {
        counts[state, default: 0] += count
        if state == .sent || state == .inDoubt { self.cost = self.cost.addingReportingOverflow(cost).overflow ? Int64.max : self.cost + cost }
        self.delivered += delivered
        self.undelivered += undelivered
    }
}

/// One group of a store's totals query: a key (the route, the language), a state, its rows,
/// their cost and receipts.
public typealias RowTotalsGroup = (key: String?, state: Int, count: Int, cost: Int64, delivered: Int, undelivered: Int)

/// What went through one provider of a campaign with several: its rows by state, what the
/// rows it sent cost (herald's prices), and what their receipts said.
public struct RouteTotals: RowTotals, Sendable, Equatable, Codable {
    /// The provider's index in the campaign's `providers:` list.
    public let route: Int
    public var counts: [MessageState: Int] = [:]
    /// The cost of its rows sent or in doubt (nano-dollars).
    public var cost: Int64 = 0
    /// Receipts: delivered (fallback included) and undelivered, expired or unknown.
    public var delivered = 0
    public var undelivered = 0
    /// What its RCS attempts of rows that then fell back to SMS through another provider cost
    /// (spent, and counted in `cost` too: those rows are the other provider's now).
    public var fellBackCost: Int64 = 0

    public init(route: Int) { self.route = route }

    /// Sums rows grouped by route and state, as each store's query returns them (routes out of
    /// range, or not numbers, fold into the first, `RouteIndex`), in route order, with the cost
    /// each route's rows left spent when they fell back (`fellBack`, by route).
    public static func collect(_ groups: [RowTotalsGroup], fellBack: [(route: Int64, cost: Int64)] = []) -> [RouteTotals] {
        var byRoute: [Int: RouteTotals] = [:]
        for (stored, cost) in fellBack where cost > 0 {
            let route = RouteIndex.checked(stored)
            byRoute[route, default: RouteTotals(route: route)].fellBackCost &+= cost
            let total = byRoute[route]?.cost ?? 0
            byRoute[route]?.cost = total.addingReportingOverflow(cost).overflow ? Int64.max : total + cost
        }
        for group in groups {
            guard let state = MessageState(rawValue: group.state) else { continue }
            let route = RouteIndex.checked(group.key.flatMap { Int64($0) } ?? 0)
            byRoute[route, default: RouteTotals(route: route)]
                .add(state: state, count: group.count, cost: group.cost, delivered: group.delivered, undelivered: group.undelivered)
        }
        return byRoute.keys.sorted().compactMap { byRoute[$0] }
    }
}

/// What went out in one language of a template with variants (`language:`).
public struct LanguageTotals: RowTotals, Sendable, Equatable, Codable {
    /// The variant's code, as the import recorded it.
    public let language: String
    public var counts: [MessageState: Int] = [:]
    public var cost: Int64 = 0
    public var delivered = 0
    public var undelivered = 0

    public init(language: String) { self.language = language }

    /// Sums rows grouped by language and state (rows without one are left out), by code.
    public static func collect(_ groups: [RowTotalsGroup]) -> [LanguageTotals] {
        var byLanguage: [String: LanguageTotals] = [:]
        for group in groups {
            guard let state = MessageState(rawValue: group.state), let language = group.key else { continue }
            byLanguage[language, default: LanguageTotals(language: language)]
                .add(state: state, count: group.count, cost: group.cost, delivered: group.delivered, undelivered: group.undelivered)
        }
        return byLanguage.keys.sorted().compactMap { byLanguage[$0] }
    }
}

/// What went from one identity of a route's sender pool: its rows by state.
public struct SenderTotals: Sendable, Equatable {
    /// The provider's index in the campaign's `providers:` list.
    public let route: Int
    /// The identity's index in that provider's `senders:` list.
    public let sender: Int
    public var counts: [MessageState: Int] = [:]

    public init(route: Int, sender: Int) {
        self.route = route
        self.sender = sender
    }

    public subscript(state: MessageState) -> Int { counts[state, default: 0] }

    /// Sums rows grouped by route, sender and state as each store's query returns them
    /// (senders out of range are left out, `SenderIndex`), in route then sender order.
    public static func collect(_ groups: [(route: Int64, sender: Int64, state: Int, count: Int)]) -> [SenderTotals] {
        var bySender: [[Int]: SenderTotals] = [:]
        for group in groups {
            guard let state = MessageState(rawValue: group.state), let sender = SenderIndex.checked(group.sender) else { continue }
            let route = RouteIndex.checked(group.route)
            bySender[[route, sender], default: SenderTotals(route: route, sender: sender)].counts[state, default: 0] += group.count
        }
        return bySender.keys.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { bySender[$0] }
    }
}
