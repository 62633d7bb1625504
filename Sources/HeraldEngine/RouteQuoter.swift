import HeraldCore
import HeraldJournal

/// Each provider of a campaign with several, as a row is priced through it: the providers
/// that take the row's country and channel, what the row costs through each (its parts
/// counted the provider's way, priced by its book) and the providers that take the row but
/// have no price for it. The import chooses among them (`RouteRule`); failover chooses
/// again among the others (`FailoverRule`).
struct RouteQuoter: Sendable {
    struct Route: Sendable {
        let route: ProviderRoute
        let packing: SMSPacking
        let book: PriceBook?
        /// The last region priced and its price for one unit (nil: the book has none).
        var last: (region: String, unit: Money?) = ("", nil)
    }

    struct Quote {
        /// In the file's order.
        var candidates: [RouteCandidate] = []
        /// The row's parts through each candidate, in the same order.
        var segments: [SMSSegments] = []
        /// Providers that take the row but have no price for it.
        var unpriced: [String] = []
    }

    private(set) var routes: [Route]
    let channel: Channel

    init(plan: CampaignPlan) {
        channel = plan.template.channel
        routes = zip(plan.spec.routes, plan.routeBooks).map {
            Route(route: $0, packing: $0.provider.target.smsPacking, book: $1)
        }
    }

    /// The providers that take a row to `region` whose rendered body is `body`.
    mutating func quote(region: String, body: UnsafeBufferPointer<UInt8>) -> Quote {
        var quote = Quote()
        var lastPacking: SMSPacking?
        var counted = SMSSegments(encoding: .gsm7, parts: 1, units: 0)
        for index in routes.indices where routes[index].route.takes(region: region, channel: channel) {
            if channel == .sms, lastPacking != routes[index].packing {
                let packing = routes[index].packing
                counted = packing == .codePoints ? SMSSegments(utf8: body) : SMSSegments(utf8: body, packing: packing)
                lastPacking = packing
            }
            var cost = Money.zero
            if let book = routes[index].book {
                if routes[index].last.region != region {
                    routes[index].last = (region, book.price(region: region, channel: channel))
                }
                guard let unit = routes[index].last.unit else {
                    quote.unpriced.append(routes[index].route.name)
                    continue
                }
                cost = PriceBook.cost(unit: unit, channel: channel, parts: counted.parts)
            }
            quote.candidates.append(RouteCandidate(route: index, cost: cost.nanos, weight: routes[index].route.weight))
            quote.segments.append(counted)
        }
        return quote
    }

    /// What keeps the row from going through route `index` with `segments`: too long for
    /// SMS, or content that breaks the provider's rules; nil when it may go.
    func problem(route index: Int, segments: SMSSegments, body: UnsafeBufferPointer<UInt8>) -> RowProblem? {
        if channel == .sms {
            let characters = body.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            return SMSLimits.check(segments, characters: characters)
        }
        return ContentRules.firstIssue(rendered: body, channel: channel, target: routes[index].route.provider.target)
            .map { RowProblem(reason: .invalidContent, detail: $0.description) }
    }
}
