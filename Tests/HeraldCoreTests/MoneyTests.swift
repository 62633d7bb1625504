import PropertyBased
import Testing
@testable import HeraldCore

@Suite struct MoneyTests {
    @Test(arguments: [
        ("0.05", 50_000_000), ("500", 500_000_000_000), ("$1.5", 1_500_000_000), (" 0.000000001 ", 1),
        ("0.00581", 5_810_000), ("12.", 12_000_000_000), (".5", 500_000_000), ("0", 0),
    ] as [(String, Int64)])
    func parsesExactly(text: String, nanos: Int64) {
        #expect(Money(text) == Money(nanos: nanos))
    }

    @Test(arguments: ["", ".", "1.2.3", "-1", "1e3", "0.0000000001", "ten", "99999999999999999999", "1,5"])
    func rejectsNonAmounts(text: String) {
        #expect(Money(text) == nil)
    }

    @Test func describesWithAtLeastTwoDecimals() {
        #expect(Money("12.5")!.description == "12.50")
        #expect(Money("0.00581")!.description == "0.00581")
        #expect(Money("3")!.description == "3.00")
        #expect(Money(nanos: -1).description == "-0.000000001")
        #expect(Money("0.05")!.decimals == 2)
        #expect(Money("0.00581")!.decimals == 5)
    }

    @Test func descriptionParsesBackToTheSameAmount() async {
        await propertyCheck(input: Gen.int64(in: 0...Int64(1) << 50)) { nanos in
            #expect(Money(Money(nanos: nanos).description) == Money(nanos: nanos))
        }
    }
}

@Suite struct BudgetDecisionTests {
    let price = Money("1.00")!

    @Test func reachingALimitExactlyIsAllowedOneNanoOverIsNot() {
        let limits = BudgetLimits(campaignLimit: Money("3.00")!)
        #expect(limits.decide(cost: price, campaignSpent: Money("2.00")!, monthSpent: .zero) == .admit)
        #expect(limits.decide(cost: price, campaignSpent: Money("2.000000001")!, monthSpent: .zero) == .exhausted(.campaign))
    }

    @Test func maxPriceEqualToThePriceIsAllowed() {
        let limits = BudgetLimits(maxPrice: Money("0.05")!)
        #expect(limits.decide(cost: Money("0.05")!, campaignSpent: .zero, monthSpent: .zero) == .admit)
        #expect(limits.decide(cost: Money("0.050000001")!, campaignSpent: .zero, monthSpent: .zero) == .overMaxPrice)
    }

    @Test func monthlyLimitCountsEveryCampaign() {
        let limits = BudgetLimits(campaignLimit: Money("100")!, monthlyLimit: Money("10")!)
        #expect(limits.decide(cost: price, campaignSpent: .zero, monthSpent: Money("9.5")!) == .exhausted(.monthly))
    }

    @Test func admittedSpendNeverPassesTheLimit() async {
        await propertyCheck(input: Gen.int64(in: 1...5_000_000_000).array(of: 1...60), Gen.int64(in: 0...50_000_000_000)) {
            costs, limit in
            let limits = BudgetLimits(campaignLimit: Money(nanos: limit))
            var spent: Int64 = 0
            for cost in costs {
                guard limits.decide(cost: Money(nanos: cost), campaignSpent: Money(nanos: spent), monthSpent: .zero) == .admit
                else {
                    #expect(spent + cost > limit, "stopped although the message fitted")
                    break
                }
                spent += cost
            }
            #expect(spent <= limit)
        }
    }
}

@Suite struct BillingMonthTests {
    @Test(arguments: [
        (0, 197001), (1_796_083_199_999, 202611), (1_796_083_200_000, 202612), (1_709_164_800_000, 202402),
        (-1, 196912), (951_782_400_000, 200002),
    ] as [(Int64, Int)])
    func monthOfATimestamp(milliseconds: Int64, month: Int) {
        #expect(BillingMonth.of(milliseconds: milliseconds) == month)
    }
}

@Suite struct PriceBookTests {
    @Test func fallsBackToStarAndMultipliesParts() {
        var book = PriceBook()
        book.set(region: "GB", channel: .sms, price: Money("0.0395")!)
        book.set(region: "*", channel: .sms, price: Money("0.05")!)
        book.set(region: "*", channel: .rcs, price: Money("0.004")!)
        #expect(book.cost(region: "GB", channel: .sms, parts: 3) == Money("0.1185"))
        #expect(book.cost(region: "FR", channel: .sms, parts: 2) == Money("0.10"))
        #expect(book.cost(region: "FR", channel: .rcs, parts: 4) == Money("0.004"))
        #expect(book.cost(region: "FR", channel: .mms, parts: 1) == nil)
        let added = book.set(region: "gb", channel: .sms, price: .zero)
        #expect(!added, "a second GB sms price is refused")
    }

    /// Issue 36, finding 2: sums of outside amounts saturate instead of trapping.
    @Test func arithmeticSaturatesInsteadOfTrapping() {
        let big = Money(nanos: 8_900_000_000_000_000_000)
        #expect(big + big == Money(nanos: .max))
        #expect(Money(nanos: .min) - big == Money(nanos: .min))
        #expect(big * 3 == Money(nanos: .max) && big * -3 == Money(nanos: .min))
        var sum = Money.zero
        for _ in 0..<3 { sum += big }
        #expect(sum == Money(nanos: .max))
        #expect(Money(nanos: 5) + Money(nanos: 7) == Money(nanos: 12), "inside the bounds nothing changes")
    }

    @Test(arguments: [
        ("{\"totalMessagePrice\":0.00581,\"totalCarrierFee\":0.0025}", "0.00831"),
        ("{\"totalMessagePrice\":1000}", "1000.00"),
        ("{\"totalCarrierFee\":0.1}", nil),
    ] as [(String, String?)])
    func pricesInRangeAreTaken(json: String, expected: String?) throws {
        let tree = try #require(JSONTree.parse(Array(json.utf8)))
        #expect(try tree.price("totalMessagePrice", "totalCarrierFee")?.description == expected)
    }

    @Test(arguments: [
        "{\"totalMessagePrice\":8e9,\"totalCarrierFee\":8e9}", "{\"totalMessagePrice\":8.9e9}",
        "{\"totalMessagePrice\":600,\"totalCarrierFee\":600}", "{\"totalMessagePrice\":-0.01}",
        "{\"totalMessagePrice\":\"0.01\"}", "{\"totalMessagePrice\":0.01,\"totalCarrierFee\":1e308}",
    ])
    func pricesOutOfRangeAreRefusedNamingTheMember(json: String) throws {
        let tree = try #require(JSONTree.parse(Array(json.utf8)))
        #expect(throws: ReceiptParseError.self) { try tree.price("totalMessagePrice", "totalCarrierFee") }
    }
}
