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

    /// Sticky sender remembered: a recipient keeps the identity it was last sent from while the
    /// pool holds it and its cap admits the row, though a new identity now wins its preference.
    @Test func aRememberedIdentityHoldsWhileThePoolHoldsItAndItsCapAdmits() throws {
        let newcomer = SenderPool.Identity(id: "+15550109", provider: "twilio", messagesPerSecond: 1_000, dailyCap: 5)
        let grown = SenderPool(identities: Self.pool.identities + [newcomer])
        let number = try #require(Self.numbers(400).first { grown.preference(destination: $0, region: nil)[0] == 3 })
        let before = Self.pool.identities[Self.pool.preference(destination: number, region: nil)[0]]
        let choice = SenderChoice(time: 1_800_000_000_000, used: [:])
        func chosen(_ pool: SenderPool, remembered: [String], used: [String: Int] = [:], recorded: Int? = nil,
                    doubted: Bool = false) -> String? {
            SenderChoice(time: choice.nextDay, used: used).choose(pool, destination: number, region: nil, units: 1, recorded: recorded,
                                                                  doubted: doubted, remembered: remembered)
                .map { pool.identities[$0].key }
        }
        // Nothing remembered: the newcomer wins, as rendezvous hashing says.
        #expect(chosen(grown, remembered: []) == newcomer.key)
        // Remembered: the identity it had before the pool grew.
        #expect(chosen(grown, remembered: [before.key]) == before.key)
        // Another provider's memory, or an identity the pool no longer holds, changes nothing.
        #expect(chosen(grown, remembered: ["aws:" + before.id]) == newcomer.key)
        #expect(chosen(grown, remembered: ["twilio:+15550199"]) == newcomer.key)
        // The remembered identity is full today: the preference decides.
        let capped = SenderPool(identities: grown.identities.map {
            $0.key == before.key ? .init(id: $0.id, provider: "twilio", messagesPerSecond: $0.messagesPerSecond, dailyCap: 1) : $0
        })
        #expect(chosen(capped, remembered: [before.key], used: [before.key: 1]) == newcomer.key)
        // A doubted row goes from the identity recorded on it, whatever is remembered.
        #expect(chosen(grown, remembered: [before.key], recorded: 1, doubted: true) == grown.identities[1].key)
    }

    @Test func theClaimPlanRemembersRealSendsThatChangeTheMemoryOnly() {
        let pool = SenderPool(identities: [.init(id: "a", provider: "twilio"), .init(id: "b", provider: "twilio")])
        let scopes = SenderScopes([""], pools: [pool])
        let candidates = (2...5).map {
            ClaimCandidate(row: $0, destination: 15_550_100 + UInt64($0 % 3), body: "hi", attempts: 0, parts: 1, cost: 0,
                           timeZones: nil, from: TallyKey(.pending))
        }
        for remembers in [false, true] {
            var plan = ClaimPlan(budget: nil, time: 1_800_000_000_000)
            plan.usePools(scopes, used: [:], countsParts: true, remembers: remembers)
            // Row 2's number (row 5's too) remembers b: kept, nothing to write; the others remember nothing.
            for candidate in candidates where plan.choosesSender(candidate) {
                plan.recall(candidate.destination, candidate.destination == 15_550_102 ? ["twilio:b", "aws:x"] : [])
            }
            for candidate in candidates { plan.consider(candidate, suppressed: false) }
            #expect(plan.senders[2] == 1)
            var expected: Set<SenderMemory> = []
            if remembers {
                for number: UInt64 in [15_550_100, 15_550_101] {
                    let first = pool.identities[pool.preference(destination: number, region: nil)[0]]
                    expected.insert(SenderMemory(destination: number, provider: "twilio", identity: first.key))
                }
            }
            #expect(Set(plan.remembering) == expected)
            #expect(plan.senders[5] == 1)
        }
        // A store writes the last of each number and provider, in one order.
        let twice = [SenderMemory(destination: 2, provider: "t", identity: "t:a"), SenderMemory(destination: 1, provider: "t", identity: "t:a"),
                     SenderMemory(destination: 2, provider: "t", identity: "t:b")]
        #expect(SenderMemory.latest(twice) == [twice[1], twice[2]])
        #expect(SenderMemory.checked("twilio:+15550100") == "twilio:+15550100")
        for hostile in [nil, "", ":a", "a:", "nocolon", String(repeating: "x:", count: 150)] { #expect(SenderMemory.checked(hostile) == nil) }
    }

    @Test func aRecallKeepsEveryProvidersIdentityOfANumber() {
        var recall = SenderRecall(identities: ["twilio:+15550100", "aws:+15550101", "twilio:+15550100"])
        #expect(recall.identities == ["twilio:+15550100", "aws:+15550101"])
        #expect(recall.isEmpty && recall.keys(for: 1).isEmpty)
        recall.add(1, 0)
        recall.add(2, 0)
        recall.add(1, 1)
        recall.add(3, 7)  // out of range (a hostile stored value): ignored
        #expect(recall.keys(for: 1) == ["twilio:+15550100", "aws:+15550101"])
        #expect(recall.keys(for: 2) == ["twilio:+15550100"] && recall.keys(for: 3).isEmpty)
        #expect(Self.pool.recalled(recall.keys(for: 1)) == 0)
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
