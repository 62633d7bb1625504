import HeraldCore
import HeraldJournal
import Testing

/// The sender pool rule: which identity a recipient prefers (sticky, weighted by rate,
/// geomatch first), and how daily caps move a row to the next or put it off to the next day.
@Suite struct SenderPoolTests {
    static let pool = SenderPool(identities: [
        .init(id: "+15550100", provider: "twilio", messagesPerSecond: 10),
        .init(id: "+15550101", provider: "twilio", messagesPerSecond: 10),
        .init(id: "+15550102", provider: "twilio", messagesPerSecond: 5),
    ])

    static func numbers(_ count: Int) -> [UInt64] { (0..<UInt64(count)).map { 12_025_550_100 + $0 * 7_919 } }

    @Test func aRecipientPrefersTheSameIdentityEveryTimeAndInAnyPoolOrder() {
        let reversed = SenderPool(identities: Self.pool.identities.reversed())
        for number in Self.numbers(500) {
            let first = Self.pool.identities[Self.pool.preference(destination: number, region: "US")[0]]
            #expect(Self.pool.preference(destination: number, region: "US") == Self.pool.preference(destination: number, region: "US"))
            #expect(reversed.identities[reversed.preference(destination: number, region: "US")[0]] == first)
        }
    }

    @Test func recipientsSpreadByRate() {
        var counts = [0, 0, 0]
        let numbers = Self.numbers(30_000)
        for number in numbers { counts[Self.pool.preference(destination: number, region: nil)[0]] += 1 }
        // Shares 0.4, 0.4, 0.2 of 30,000: within 3% of each.
        for (index, share) in [0.4, 0.4, 0.2].enumerated() {
            #expect(abs(Double(counts[index]) / Double(numbers.count) - share) < 0.03, "\(counts)")
        }
    }

    @Test func anIdentityAddedTakesOnlyTheRecipientsItNowWins() {
        let grown = SenderPool(identities: Self.pool.identities + [.init(id: "+15550103", provider: "twilio", messagesPerSecond: 10)])
        var moved = 0, movedElsewhere = 0
        let numbers = Self.numbers(10_000)
        for number in numbers {
            let before = Self.pool.preference(destination: number, region: nil)[0]
            let after = grown.preference(destination: number, region: nil)[0]
            if before != after {
                moved += 1
                if after != 3 { movedElsewhere += 1 }
            }
        }
        #expect(movedElsewhere == 0)
        // The new identity's share: 10 of 35.
        #expect(abs(Double(moved) / Double(numbers.count) - 10.0 / 35.0) < 0.03, "\(moved)")
    }

    @Test func geomatchPutsTheRecipientsCountryFirst() {
        let pool = SenderPool(identities: [
            .init(id: "+15550100", provider: "aws", country: "US"),
            .init(id: "+447700900100", provider: "aws", country: "GB"),
            .init(id: "+447700900101", provider: "aws", country: "GB"),
        ], geomatch: true)
        for number in Self.numbers(200) {
            #expect(pool.preference(destination: number, region: "US")[0] == 0)
            #expect([1, 2].contains(pool.preference(destination: number, region: "GB")[0]))
            // A country with no identity of its own: every identity, by score.
            #expect(pool.preference(destination: number, region: "FR").count == 3)
        }
        let ignored = SenderPool(identities: pool.identities, geomatch: false)
        let firsts = Set(Self.numbers(200).map { ignored.preference(destination: $0, region: "US")[0] })
        #expect(firsts.count == 3)
    }

    struct CapCase: Sendable, CustomTestStringConvertible {
        let name: String
        let used: [Int]
        let units: Int
        let doubted: Bool
        let expected: Int?
        var testDescription: String { name }
    }

    static let cappedPool = SenderPool(identities: [
        .init(id: "a", provider: "simulator", dailyCap: 10),
        .init(id: "b", provider: "simulator", dailyCap: 10),
        .init(id: "c", provider: "simulator"),
    ])

    /// For number `number`, preference of the capped pool is computed, and each case sets the
    /// use of identities by preference rank (first, second, third).
    static let capCases: [CapCase] = [
        CapCase(name: "room on the first", used: [9, 0, 0], units: 1, doubted: false, expected: 0),
        CapCase(name: "the first is full: the second", used: [10, 0, 0], units: 1, doubted: false, expected: 1),
        CapCase(name: "a two-part message does not fit in one unit left", used: [9, 9, 0], units: 2, doubted: false, expected: 2),
        CapCase(name: "a doubted row keeps its recorded identity, full or not", used: [10, 10, 0], units: 1, doubted: true, expected: 0),
    ]

    @Test(arguments: capCases)
    func dailyCaps(_ test: CapCase) {
        // Rank r of the preference is identity order[r]; uncapped "c" is made last by giving
        // it the preference rank the case's third entry stands for.
        let pool = Self.cappedPool
        guard let number = Self.numbers(400).first(where: { pool.preference(destination: $0, region: nil) == [0, 1, 2] }) else {
            Issue.record("no number prefers a, b, c in that order")
            return
        }
        var used: [String: Int] = [:]
        for (index, units) in test.used.enumerated() { used[pool.identities[index].key] = units }
        let choice = SenderChoice(time: 1_800_000_000_000, used: used)
        #expect(choice.choose(pool, destination: number, region: nil, units: test.units, recorded: 0, doubted: test.doubted)
                    == test.expected)
    }

    @Test func everyIdentityFullPutsTheRowOffToTheNextUTCDay() {
        let pool = SenderPool(identities: [.init(id: "a", provider: "simulator", dailyCap: 2)])
        let time: Int64 = 1_800_000_000_000  // 2027-01-15T08:00:00Z
        var choice = SenderChoice(time: time, used: [:])
        #expect(choice.choose(pool, destination: 1, region: nil, units: 2, recorded: nil, doubted: false) == 0)
        choice.take(pool.identities[0], units: 2)
        #expect(choice.added == ["simulator:a": 2])
        #expect(choice.choose(pool, destination: 1, region: nil, units: 1, recorded: nil, doubted: false) == nil)
        #expect(choice.nextDay == 1_800_057_600_000)  // 2027-01-16T00:00:00Z
        #expect(SenderChoice.day(of: -1) == -1 && SenderChoice.day(of: 0) == 0)
    }

    @Test func theClaimPlanDefersAFullPoolsRowsWithTheirReason() {
        let pool = SenderPool(identities: [.init(id: "a", provider: "simulator", dailyCap: 3)])
        var plan = ClaimPlan(budget: nil, time: 1_800_000_000_000)
        plan.usePools(SenderScopes([""], pools: [pool]), used: ["simulator:a": 1], countsParts: true)
        let candidates = (2...5).map {
            ClaimCandidate(row: $0, destination: 15_550_100 + UInt64($0), body: "hi", attempts: 0, parts: 1, cost: 0,
                           timeZones: nil, from: TallyKey(.pending))
        }
        let verdicts = candidates.map { plan.consider($0, suppressed: false) }
        #expect(verdicts == [.claim, .claim, .deferUntil(1_800_057_600_000), .deferUntil(1_800_057_600_000)])
        #expect(plan.senders == [2: 0, 3: 0])
        #expect(plan.senderChoice?.added == ["simulator:a": 2])
        let (_, deferred) = plan.takeSkipsAndDeferrals()
        #expect(deferred.map(\.reason) == [.senderCap, .senderCap])
        #expect(plan.tally.deltas[TallyKey(.retry, .senderCap)] == 2)
    }
}
