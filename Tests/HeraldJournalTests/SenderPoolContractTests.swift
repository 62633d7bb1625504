import Foundation
import HeraldCore
import HeraldJournal
import Testing

/// Sender pools on both stores: the identity chosen at claim is recorded on the row and comes
/// back with it; an identity's daily cap holds across campaigns and processes; a full pool's
/// rows wait for the next UTC day (`sender_cap`); a doubted row is resent from its identity.
@Suite struct SenderPoolContractTests {
    static let other = CampaignInputs(id: "autumn", campaignPath: "/o.yaml", templateSHA: "t2", recipientsSHA: "r2", channel: .sms)

    static func pool(caps: [Int?]) -> SenderPool {
        SenderPool(identities: caps.enumerated().map { index, cap in
            SenderPool.Identity(id: "+1555010\(index)", provider: "simulator", dailyCap: cap)
        })
    }

    static func claim(_ journal: any CampaignJournal, cid: Int64, owner: LeaseOwner, pool: SenderPool, settle: [Settlement] = [],
                      claim: Int) throws -> StepResult {
        var cursor = ClaimCursor()
        return try journal.step(cid: cid, owner: owner, settle: settle, claim: claim, cursor: &cursor, budget: nil, gate: nil,
                                sender: SenderScopes([""], pools: [pool]), rate: nil)
    }

    @Test(arguments: Store.allCases)
    func dailyCapsHoldAcrossCampaignsAndProcesses(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let pool = Self.pool(caps: [3, 3])
        let first = try fixture.openStore(), second = try fixture.openStore()
        let firstOwner = LeaseOwner(), secondOwner = LeaseOwner()
        let a = cid(of: try openCampaign(first, owner: firstOwner))
        let b = cid(of: try openCampaign(second, owner: secondOwner, Self.other))
        try importRows(first, cid: a, numbers: numbers(4))
        try importRows(second, cid: b, numbers: numbers(10))
        let claimedA = try Self.claim(first, cid: a, owner: firstOwner, pool: pool, claim: 10).claimed
        #expect(claimedA.count == 4)
        for message in claimedA {
            // Each row goes from the identity its number prefers, unless that one is full.
            #expect(message.sender != nil)
        }
        // Campaign b, another process: the two identities have 2 units left between them.
        let stepB = try Self.claim(second, cid: b, owner: secondOwner, pool: pool, claim: 10)
        #expect(stepB.claimed.count == 2)
        #expect(stepB.deferred == 8)
        var used: [Int: Int] = [:]
        for message in claimedA + stepB.claimed { used[message.sender ?? -1, default: 0] += 1 }
        #expect(used == [0: 3, 1: 3])
        let counts = try second.counts(cid: b)
        #expect(counts.waitingByReason[.senderCap] == 8)
        let waiting = try second.rows(cid: b, in: .retry, limit: 20)
        #expect(waiting.count == 8 && waiting.allSatisfy { $0.reason == .senderCap })
        // Nothing is due before tomorrow (UTC).
        let next = try #require(try second.nextRetry(cid: b))
        #expect(next == SenderChoice(time: second.currentTime(), used: [:]).nextDay)
        #expect(try schemaColumns(second, "message").contains("sender"))
    }

    /// Sticky sender across campaigns and processes: a recipient keeps the identity it was last
    /// sent from when the pool grows by one its hashing now prefers; a dry run reads the memory
    /// but never writes it; a purge takes the campaign's entries with its numbers.
    @Test(arguments: Store.allCases)
    func aRecipientKeepsItsIdentityAcrossCampaignsWhenThePoolGrows(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let pool = Self.pool(caps: [nil, nil])
        let newcomer = SenderPool.Identity(id: "+15550109", provider: "simulator", messagesPerSecond: 1_000)
        let grown = SenderPool(identities: pool.identities + [newcomer])
        let all = numbers(40).compactMap { $0 }
        // The numbers the newcomer would take were nothing remembered.
        let moving = Set(all.filter { grown.preference(destination: $0, region: nil)[0] == 2 })
        #expect(moving.count > 20)
        let first = try fixture.openStore(), second = try fixture.openStore()
        let firstOwner = LeaseOwner(), secondOwner = LeaseOwner(), dryOwner = LeaseOwner()
        let a = cid(of: try openCampaign(first, owner: firstOwner))
        try importRows(first, cid: a, numbers: all)
        let sentA = try Self.claim(first, cid: a, owner: firstOwner, pool: pool, claim: 40).claimed
        #expect(sentA.count == 40)
        let fromA = Dictionary(uniqueKeysWithValues: sentA.map { ($0.destination, pool.identities[$0.sender ?? 0].key) })
        // What estimate and preview read back: every number, for the identities asked about only.
        let keys = grown.identities.map(\.key) + ["twilio:+15550100"]
        let recall = try second.rememberedSenders(identities: keys, among: nil)
        for number in all { #expect(recall.keys(for: number) == [fromA[number] ?? "?"]) }
        let some = try second.rememberedSenders(identities: keys, among: Array(all.prefix(5)) + [all[0], 1])
        for number in all.prefix(5) { #expect(some.keys(for: number) == [fromA[number] ?? "?"]) }
        #expect(some.keys(for: all[5]).isEmpty && some.keys(for: 1).isEmpty)
        #expect(try second.rememberedSenders(identities: [newcomer.key], among: nil).isEmpty)
        // A dry run of the grown pool, another process: what was remembered, and it writes nothing.
        let dry = CampaignInputs(id: "autumn", mode: .dryRun, campaignPath: "/o.yaml", templateSHA: "t2", recipientsSHA: "r2",
                                 channel: .sms, ledgerScope: .dryRun)
        let d = cid(of: try openCampaign(second, owner: dryOwner, dry))
        try importRows(second, cid: d, numbers: all)
        let rehearsed = try Self.claim(second, cid: d, owner: dryOwner, pool: grown, claim: 40).claimed
        #expect(rehearsed.count == 40)
        for message in rehearsed { #expect(grown.identities[message.sender ?? 0].key == fromA[message.destination]) }
        // Campaign b, the grown pool, another process: every recipient keeps its identity.
        let b = cid(of: try openCampaign(second, owner: secondOwner, Self.other))
        try importRows(second, cid: b, numbers: all)
        let sentB = try Self.claim(second, cid: b, owner: secondOwner, pool: grown, claim: 40).claimed
        #expect(sentB.count == 40)
        for message in sentB { #expect(grown.identities[message.sender ?? 0].key == fromA[message.destination]) }
        // Purged, campaign a's numbers are forgotten (b wrote nothing: nothing changed). A dry run
        // of the first pool then writes nothing either, so a new campaign's recipients follow the
        // hashing of the grown pool again.
        _ = try Self.claim(first, cid: a, owner: firstOwner, pool: pool,
                           settle: sentA.map { Settlement(row: $0.row, state: .sent).settling($0) }, claim: 0)
        try first.release(cid: a, owner: firstOwner, state: .completed)
        #expect(try first.purge(cid: a, vacuum: false) != nil)
        var rehearsal = dry
        rehearsal.id = "spring"
        let e = cid(of: try openCampaign(second, owner: dryOwner, rehearsal))
        try importRows(second, cid: e, numbers: all)
        #expect(try Self.claim(second, cid: e, owner: dryOwner, pool: pool, claim: 40).claimed.count == 40)
        let c = cid(of: try openCampaign(first, owner: firstOwner, CampaignInputs(id: "winter", campaignPath: "/w.yaml",
                                                                                 templateSHA: "t3", recipientsSHA: "r3", channel: .sms)))
        try importRows(first, cid: c, numbers: all)
        let sentC = try Self.claim(first, cid: c, owner: firstOwner, pool: grown, claim: 40).claimed
        #expect(Set(sentC.filter { $0.sender == 2 }.map(\.destination)) == moving)
    }

    @Test(arguments: Store.allCases)
    func aDoubtedRowIsResentFromItsIdentityAndAnUndoubtedOneMayMove(_ store: Store) throws {
        guard let fixture = try Fixture(store) else { return }
        let journal = try fixture.openStore()
        let owner = LeaseOwner()
        let cid = cid(of: try openCampaign(journal, owner: owner))
        try importRows(journal, cid: cid, numbers: numbers(8))
        let open = Self.pool(caps: [nil, nil])
        let claimed = try Self.claim(journal, cid: cid, owner: owner, pool: open, claim: 8).claimed
        #expect(claimed.count == 8)
        let identities = Dictionary(uniqueKeysWithValues: claimed.map { ($0.row, try! #require($0.sender)) })
        // Every row comes back due now: half with a lost answer (doubted), half refused for a
        // while (not doubted).
        let settle = claimed.map { message in
            message.row % 2 == 0
                ? Settlement(row: message.row, state: .retry, reason: .lostAnswer, notBefore: 0).settling(message)
                : Settlement(row: message.row, state: .retry, reason: .transient, notBefore: 0).settling(message)
        }
        // Now every identity but the last is capped and full: undoubted rows go from the last,
        // doubted ones from the identity they went from before.
        let full = SenderPool(identities: [
            SenderPool.Identity(id: "+15550100", provider: "simulator", dailyCap: 1),
            SenderPool.Identity(id: "+15550101", provider: "simulator"),
        ])
        let pretaken = try Self.claim(journal, cid: cid, owner: owner, pool: full, settle: settle, claim: 0)
        #expect(pretaken.claimed.isEmpty)
        let again = try Self.claim(journal, cid: cid, owner: owner, pool: full, claim: 8).claimed
        #expect(again.count == 8)
        for message in again {
            if message.row % 2 == 0 {
                #expect(message.doubted && message.sender == identities[message.row], "line \(message.row)")
            } else if identities[message.row] == 0 {
                // Identity 0 took one unit of its cap (of 1) for the first undoubted row at most.
                #expect(message.sender != nil)
            }
        }
        let undoubtedOnFirst = again.filter { $0.row % 2 == 1 && $0.sender == 0 }.count
        #expect(undoubtedOnFirst <= 1)
    }
}
