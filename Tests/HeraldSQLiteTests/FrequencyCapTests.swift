import Foundation
import HeraldCore
import Testing
@testable import HeraldJournal
@testable import HeraldSQLite

/// Frequency caps count sends across campaigns of a journal, in a window that ends
/// at the moment of each claim (a clock the test sets).
@Suite struct FrequencyCapTests {
    static let day: Int64 = 86_400_000

    /// Campaign `id` over `numbers`, every row sent at `time`.
    func sentCampaign(_ journal: Journal, id: String, numbers: [UInt64], at time: Int64) throws -> Int64 {
        var campaign = inputs
        campaign.id = id
        let owner = LeaseOwner()
        journal.now = { time }
        let cid = cid(of: try open(journal, owner: owner, campaign))
        try importRows(journal, cid: cid, numbers: numbers)
        var cursor = ClaimCursor()
        let batch = try journal.step(cid: cid, owner: owner, settle: [], claim: numbers.count, cursor: &cursor).claimed
        _ = try journal.step(cid: cid, owner: owner, settle: batch.map { Settlement(row: $0.row, state: .sent).settling($0) },
                             claim: 0, cursor: &cursor)
        try journal.release(cid: cid, owner: owner, state: .completed)
        return cid
    }

    @Test(arguments: [(6, 2), (7, 0)] as [(Int64, Int)])
    func aRecipientMessagedInTheWindowIsSkipped(daysLater: Int64, expectedCapped: Int) throws {
        let journal = try Journal(path: temporaryJournalPath())
        let start: Int64 = 1_764_000_000_000
        _ = try sentCampaign(journal, id: "first", numbers: [447700900001, 447700900002], at: start)
        // Seven days later to the millisecond the first sends have left the window.
        journal.now = { start + daysLater * Self.day }
        var second = inputs
        second.id = "second"
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner, second))
        try importRows(journal, cid: cid, numbers: [447700900001, 447700900002, 447700900003])
        try journal.prepareFrequencyCap(cid: cid, cap: FrequencyCap(messages: 1, days: 7))
        var cursor = ClaimCursor()
        var claimed: [Int] = []
        var capped = 0
        for _ in 0..<3 {
            let step = try journal.step(cid: cid, owner: owner, settle: [], claim: 3, cursor: &cursor)
            claimed += step.claimed.map(\.row)
            capped += step.capped
        }
        #expect(capped == expectedCapped)
        #expect(claimed.count == 3 - expectedCapped)
        #expect(try journal.counts(cid: cid).byReason[.frequencyCap, default: 0] == expectedCapped)
        #expect(try journal.checkCounters(cid: cid).isEmpty)
        let checker = try journal.frequencyChecker(campaign: "other", scope: .real, cap: FrequencyCap(messages: 1, days: 7))
        #expect(checker(447700900001) == (expectedCapped > 0) && !checker(447700900003), "estimate agrees")
    }

    @Test func twoMessagesAllowedMeansTheThirdIsSkipped() throws {
        let journal = try Journal(path: temporaryJournalPath())
        let start: Int64 = 1_764_000_000_000
        _ = try sentCampaign(journal, id: "a", numbers: [447700900001, 447700900002], at: start)
        _ = try sentCampaign(journal, id: "b", numbers: [447700900001], at: start + Self.day)
        journal.now = { start + 2 * Self.day }
        var third = inputs
        third.id = "c"
        let owner = LeaseOwner()
        let cid = cid(of: try open(journal, owner: owner, third))
        try importRows(journal, cid: cid, numbers: [447700900001, 447700900002])
        try journal.prepareFrequencyCap(cid: cid, cap: FrequencyCap(messages: 2, days: 30))
        var cursor = ClaimCursor()
        let step = try journal.step(cid: cid, owner: owner, settle: [], claim: 2, cursor: &cursor)
        #expect(step.claimed.map(\.row) == [3] && step.capped == 1, "line 2's number already got two")
    }

    @Test func purgeRemovesTheHistoryToo() throws {
        let path = temporaryJournalPath()
        let journal = try Journal(path: path)
        let first = try sentCampaign(journal, id: "first", numbers: [447700900001], at: 1_764_000_000_000)
        var second = inputs
        second.id = "second"
        let cid = cid(of: try open(journal, owner: LeaseOwner(), second))
        try importRows(journal, cid: cid, numbers: [447700900002])
        try journal.prepareFrequencyCap(cid: cid, cap: FrequencyCap(messages: 1, days: 7))
        #expect(try journal.frequencyChecker(campaign: "x", scope: .real, cap: FrequencyCap(messages: 1, days: 7))(447700900001))
        #expect(try journal.purge(cid: first, vacuum: false) == 1)
        #expect(try !journal.frequencyChecker(campaign: "x", scope: .real, cap: FrequencyCap(messages: 1, days: 7))(447700900001))
    }
}
