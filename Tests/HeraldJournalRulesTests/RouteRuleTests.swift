import HeraldJournal
import Testing

/// The route rule, case by case and over many rows, without a database.
@Suite struct RouteRuleTests {
    static let a = RouteCandidate(route: 0, cost: 7_000, weight: 3)
    static let b = RouteCandidate(route: 1, cost: 5_000, weight: 1)
    static let c = RouteCandidate(route: 2, cost: 5_000, weight: 0)

    struct Case: Sendable, CustomTestStringConvertible {
        let strategy: RoutingStrategy
        let candidates: [RouteCandidate]
        let expected: Int?
        var testDescription: String { "\(strategy.rawValue) over \(candidates.map(\.route)) -> \(expected.map(String.init) ?? "none")" }
    }

    static let cases: [Case] = [
        Case(strategy: .ordered, candidates: [a, b, c], expected: 0),
        Case(strategy: .ordered, candidates: [b, a], expected: 1),
        Case(strategy: .ordered, candidates: [], expected: nil),
        Case(strategy: .leastCost, candidates: [a, b, c], expected: 1),  // a tie goes to the first in the file
        Case(strategy: .leastCost, candidates: [a, c, b], expected: 2),
        Case(strategy: .leastCost, candidates: [a], expected: 0),
        Case(strategy: .leastCost, candidates: [], expected: nil),
        Case(strategy: .weighted, candidates: [c], expected: 2),  // the only one that fits, whatever its weight
        Case(strategy: .weighted, candidates: [], expected: nil),
    ]

    @Test(arguments: cases) func choice(_ example: Case) {
        #expect(RouteRule(strategy: example.strategy).choose(example.candidates, line: 2)?.route == example.expected)
    }

    @Test func weightedSharesFollowTheWeightsAndRepeatForTheSameLine() {
        let rule = RouteRule(strategy: .weighted)
        var counts = [0, 0, 0]
        for line in 2..<40_002 {
            guard let chosen = rule.choose([Self.a, Self.b, Self.c], line: line) else {
                Issue.record("line \(line) got no route")
                return
            }
            counts[chosen.route] += 1
            #expect(rule.choose([Self.a, Self.b, Self.c], line: line) == chosen)
        }
        #expect(counts[2] == 0, "a weight of 0 takes no row while another fits")
        // 3:1 within 2% of 40,000 rows.
        #expect(abs(counts[0] - 30_000) < 800, "\(counts)")
        #expect(abs(counts[1] - 10_000) < 800, "\(counts)")
    }

    @Test func leastCostNeverPicksADearerRoute() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let candidates = (0..<Int.random(in: 1...5, using: &random)).map {
                RouteCandidate(route: $0, cost: Int64.random(in: 0...20, using: &random))
            }
            let chosen = RouteRule(strategy: .leastCost).choose(candidates, line: 9)
            #expect(chosen?.cost == candidates.map(\.cost).min())
            #expect(chosen?.route == candidates.first { $0.cost == chosen?.cost }?.route)
        }
    }
}
