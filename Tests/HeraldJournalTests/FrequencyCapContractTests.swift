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
}
