import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// `frequency_cap` on both stores: a capped campaign counts what every other campaign of
/// its kind sent or is sending in the window, including what another process sends while
/// the capped campaign runs; `estimate`'s checker counts the same sends once.
@Suite struct FrequencyCapContractTests {
    static let other = CampaignInputs(id: "autumn", campaignPath: "/o.yaml", templateSHA: "t2", recipientsSHA: "r2", channel: .sms)

    @Test(arguments: Store.allCases)
    func numbersAnotherProcessMessagesWhileACappedCampaignRunsAreCapped(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        // Another campaign, sent by a process of its own (its own connection).
        let sender = try fixture.openStore()
        let senderOwner = LeaseOwner()
        let other = cid(of: try openCampaign(sender, owner: senderOwner, Self.other))
        try importRows(sender, cid: other, numbers: numbers(4))
        // The capped campaign: one message a week, the same first numbers and two more.
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let capped = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: capped, numbers: numbers(7))
        func send(_ claim: Int, settle: Int) throws {
            let claimed = try step(sender, cid: other, owner: senderOwner, claim: claim).claimed
            _ = try step(sender, cid: other, owner: senderOwner, settle: claimed.prefix(settle).map {
                Settlement(row: $0.row, state: .sent, providerRef: "o-\($0.row)").settling($0)
            }, claim: 0)
        }
        // Before the capped campaign starts: number 1 was messaged.
        try send(1, settle: 1)
        try journal.prepareFrequencyCap(cid: capped, cap: FrequencyCap(messages: 1, days: 7))
        // While it runs, the other process messages number 2 and is sending to number 3; its
        // row for number 4 fails, which is no message.
        try send(2, settle: 1)
        let failing = try step(sender, cid: other, owner: senderOwner, claim: 1).claimed
        _ = try step(sender, cid: other, owner: senderOwner,
                     settle: failing.map { Settlement(row: $0.row, state: .failed, reason: .rejected, detail: "no").settling($0) }, claim: 0)
        let claimed = try step(journal, cid: capped, owner: owner, claim: 10).claimed
        #expect(claimed.map(\.row) == [5, 6, 7, 8], "numbers 4 to 7: \(claimed.map(\.row))")
        let counts = try journal.counts(cid: capped)
        #expect(counts.byReason[.frequencyCap] == 3, "\(counts.byReason)")

        // estimate's checker: numbers 1 and 2 were sent (3 is not sent yet), each counted once.
        let checker = try journal.frequencyChecker(campaign: "later", scope: .real, cap: FrequencyCap(messages: 1, days: 7))
        #expect([1, 2, 3, 4].map { checker(447_700_900_000 + UInt64($0)) } == [true, true, false, false])
        let twice = try journal.frequencyChecker(campaign: "later", scope: .real, cap: FrequencyCap(messages: 2, days: 7))
        #expect(!twice(447_700_900_001), "a send is counted once, however it was read")
    }
    static let day: Int64 = 86_400_000
    static let start: Int64 = 1_764_000_000_000

    /// Campaign `id` over `numbers`, every row sent at `time` (the journal's clock set to it).
    func sentCampaign(_ journal: any Fixture.Capabilities, _ clock: Clock, id: String, numbers: [UInt64?], at time: Int64) throws -> Int64 {
        var inputs = campaignInputs
        inputs.id = id
        clock.time = time
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        try importRows(journal, cid: cid, numbers: numbers)
        let batch = try step(journal, cid: cid, owner: owner, claim: numbers.count).claimed
        _ = try step(journal, cid: cid, owner: owner, settle: batch.map { Settlement(row: $0.row, state: .sent).settling($0) }, claim: 0)
        try journal.release(cid: cid, owner: owner, state: .completed)
        return cid
    }

    /// Opens `inputs` with `numbers` imported and a cap of `cap`.
    func cappedCampaign(_ journal: any Fixture.Capabilities, id: String, numbers: [UInt64?], cap: FrequencyCap,
                        owner: LeaseOwner) throws -> Int64 {
        var inputs = campaignInputs
        inputs.id = id
        let cid = cid(of: try openCampaign(journal, owner: owner, inputs))
        try importRows(journal, cid: cid, numbers: numbers)
        try journal.prepareFrequencyCap(cid: cid, cap: cap)
        return cid
    }

    /// Seven days later to the millisecond, the first sends have left the window (moved
    /// from the SQLite-only tests, with the two below).
    @Test(arguments: Store.allCases, [(6, 2), (7, 0)] as [(Int64, Int)])
    func aRecipientMessagedInTheWindowIsSkipped(_ store: Store, _ timing: (daysLater: Int64, capped: Int)) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let clock = try settableClock(journal)
        _ = try sentCampaign(journal, clock, id: "first", numbers: [447_700_900_001, 447_700_900_002], at: Self.start)
        clock.time = Self.start + timing.daysLater * Self.day
        let owner = LeaseOwner()
        let cap = FrequencyCap(messages: 1, days: 7)
        let cid = try cappedCampaign(journal, id: "second", numbers: [447_700_900_001, 447_700_900_002, 447_700_900_003],
                                     cap: cap, owner: owner)
        var claimed: [Int] = []
        var capped = 0
        for _ in 0..<3 {
            let result = try step(journal, cid: cid, owner: owner, claim: 3)
            claimed += result.claimed.map(\.row)
            capped += result.capped
        }
        #expect(capped == timing.capped && claimed.count == 3 - timing.capped)
        #expect(try journal.counts(cid: cid).byReason[.frequencyCap, default: 0] == timing.capped)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        let checker = try journal.frequencyChecker(campaign: "other", scope: .real, cap: cap)
        #expect(checker(447_700_900_001) == (timing.capped > 0) && !checker(447_700_900_003), "estimate agrees")
    }

    @Test(arguments: Store.allCases)
    func twoMessagesAllowedMeansTheThirdIsSkipped(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let clock = try settableClock(journal)
        _ = try sentCampaign(journal, clock, id: "a", numbers: [447_700_900_001, 447_700_900_002], at: Self.start)
        _ = try sentCampaign(journal, clock, id: "b", numbers: [447_700_900_001], at: Self.start + Self.day)
        clock.time = Self.start + 2 * Self.day
        let owner = LeaseOwner()
        let cid = try cappedCampaign(journal, id: "c", numbers: [447_700_900_001, 447_700_900_002],
                                     cap: FrequencyCap(messages: 2, days: 30), owner: owner)
        let result = try step(journal, cid: cid, owner: owner, claim: 2)
        #expect(result.claimed.map(\.row) == [3] && result.capped == 1, "line 2's number already got two")
    }

    @Test(arguments: Store.allCases)
    func purgeRemovesTheHistoryToo(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let clock = try settableClock(journal)
        let first = try sentCampaign(journal, clock, id: "first", numbers: [447_700_900_001], at: Self.start)
        clock.time = Self.start + Self.day
        let cap = FrequencyCap(messages: 1, days: 7)
        _ = try cappedCampaign(journal, id: "second", numbers: [447_700_900_002], cap: cap, owner: LeaseOwner())
        #expect(try journal.frequencyChecker(campaign: "x", scope: .real, cap: cap)(447_700_900_001))
        #expect(try journal.purge(cid: first, vacuum: false) == 1)
        #expect(try !journal.frequencyChecker(campaign: "x", scope: .real, cap: cap)(447_700_900_001))
    }
}
