import Foundation
import HeraldCore
import HeraldEngine
import HeraldJournal

/// The journal's claim with a sender pool, step by step as a sender drives it (claim 512,
/// settle the batch sent): N rows without a pool, then with a pool of three identities for a
/// dry run (nothing remembered or written), a first campaign (every recipient's identity remembered, `sender_memory` written), then a
/// second campaign whose pool gained a fourth identity (every identity read back and kept).
/// On SQLite by default, or the PostgreSQL journal at `url`.
func poolBench(rows: Int, url: String?) throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-pool-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let location = url ?? folder.appendingPathComponent("journal.sqlite").path
    let journal = try JournalOpener.open(location)
    let identities = ["+15550100", "+15550101", "+15550102"].map { SenderPool.Identity(id: $0, provider: "twilio") }
    let grown = SenderPool(identities: identities + [SenderPool.Identity(id: "+15550109", provider: "twilio")])
    // A dry run first: the pool's cost with nothing remembered and nothing written.
    let cases: [(String, SenderPool?)] = [("no_pool", nil), ("pool_dry_run", SenderPool(identities: identities)),
                                          ("pool_first", SenderPool(identities: identities)), ("pool_again", grown)]
    let run = getpid()
    for (label, pool) in cases {
        let inputs = CampaignInputs(id: "pool-\(run)-\(label)", campaignPath: "/bench.yaml", templateSHA: "t", recipientsSHA: label,
                                    channel: .sms, ledgerScope: label == "pool_dry_run" ? .dryRun : .real)
        let owner = LeaseOwner()
        let cid = try journal.open(inputs, owner: owner, recipientsPath: "r.csv", templatePath: "t.yaml", unpause: true).cid
        let writer = try journal.makeImporter(cid: cid)
        var body = Array("Hi Person, your code is C0001".utf8)
        try body.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<rows {
                try writer.add(ImportedRow(row: index + 2, destination: 1_202_555_0000 + UInt64(index), region: "US",
                                           body: UnsafeBufferPointer(buffer)))
            }
        }
        _ = try writer.finish()
        let scopes = SenderScopes([""], pools: [pool])
        var cursor = ClaimCursor()
        var settle: [Settlement] = []
        var sent = 0
        let start = ContinuousClock.now
        while true {
            let step = try journal.step(cid: cid, owner: owner, settle: settle, claim: 512, cursor: &cursor, budget: nil, gate: nil,
                                        sender: scopes, rate: nil)
            sent += settle.count
            if step.claimed.isEmpty { break }
            settle = step.claimed.map { Settlement(row: $0.row, state: .sent).settling($0) }
        }
        let elapsed = seconds(start.duration(to: .now))
        emit(["figure": "claim_settle_rows_per_s", "case": label, "store": url == nil ? "sqlite" : "postgres", "rows": sent,
              "value": Int(Double(sent) / elapsed), "seconds": elapsed])
    }
}
