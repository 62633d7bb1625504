import Foundation
import HeraldCore
import HeraldJournal

extension CampaignPlan {
    /// The rows at CSV `lines`, or (lines nil) a sample of `sample` rows that covers every
    /// country, provider, language, encoding and outcome present, first ones first.
    public func preview(lines: [Int]?, sample: Int = 3, journalPath: String? = nil) throws -> Preview {
        var preview = Preview(campaign: spec.id, chosenBy: lines == nil ? "sample" : "rows")
        let wanted = lines.map(Set.init)
        var check = try OfflineRowCheck(self, journalPath: journalPath)
        let pools = spec.senders
        // Sampling: the first row of each kind, then more rows to reach `sample`.
        var kinds: [String: Int] = [:]
        var firstOfKind: [Preview.Row] = []
        var others: [Preview.Row] = []
        let scanner = try RecipientScanner(plan: self)
        let packing = spec.routes.map(\.provider.target.smsPacking)
        // Rows from a pool, by line: their route and number, for the identity the journal remembers.
        var pooled: [Int: (route: Int, number: UInt64)] = [:]
        try scanner.scan { scanned in
            preview.total += 1
            var row = Preview.Row(line: scanned.line, phone: scanned.phone?.e164, country: scanned.phone?.region, status: "send",
                                  channel: template.channel.rawValue)
            if let codes = template.languages?.codes, let index = scanned.language { row.language = codes[index] }
            if let problem = scanned.problem {
                row.status = problem.reason.rawValue
                row.detail = problem.description
            } else if let reason = check.skipReason(phone: scanned.phone, route: scanned.route, cost: scanned.cost) {
                row.status = reason.rawValue
                switch reason {
                case .duplicate: row.detail = "an earlier row has the same number: that one is sent"
                case .suppressed: row.detail = "the number is on the journal's suppression list"
                case .frequencyCap: row.detail = "the recipient reached the campaign's frequency_cap"
                default: row.detail = "costs $\(scanned.cost), more than max_price"
                }
            }
            let kind = [row.country ?? "", String(scanned.route), row.language ?? "", scanned.problem == nil ? scanned.segments.encoding.rawValue : "",
                        row.status].joined(separator: "|")
            let keep: Bool
            if let wanted {
                keep = wanted.contains(scanned.line)
            } else if kinds[kind] == nil {
                kinds[kind] = scanned.line
                keep = true
            } else {
                keep = others.count < sample
            }
            guard keep else { return }
            if scanned.problem == nil || scanned.problem?.reason == .filtered {
                let text = String(decoding: scanned.body, as: UTF8.self)
                row.body = text.isEmpty ? nil : text
                if scanned.problem == nil {
                    row.provider = spec.isRouted ? spec.routes[scanned.route].name : spec.routes[0].provider.kind.name
                    if template.channel == .sms {
                        row.encoding = scanned.segments.encoding.rawValue
                        row.characters = text.unicodeScalars.count
                        row.parts = scanned.segments.parts
                        let routePacking = packing.indices.contains(scanned.route) ? packing[scanned.route] : .codePoints
                        row.partTexts = SMSSplit.parts(text, encoding: scanned.segments.encoding, count: scanned.segments.parts,
                                                       packing: routePacking)
                    }
                    row.cost = scanned.cost
                    if let phone = scanned.phone, let pool = pools.pool(route: scanned.route),
                        let first = pool.preference(destination: phone.digits, region: phone.region).first
                    {
                        row.sender = pool.identities[first].id
                        pooled[scanned.line] = (scanned.route, phone.digits)
                    }
                }
            }
            if wanted != nil || kinds[kind] == scanned.line { firstOfKind.append(row) } else { others.append(row) }
        }
        if let lines {
            let byLine = Dictionary(firstOfKind.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
            let missing = lines.filter { byLine[$0] == nil }
            if !missing.isEmpty {
                throw PreviewError("no data row at line \(missing.map(String.init).joined(separator: ", ")) of \(spec.recipientsPath) "
                    + "(its rows are on lines 2 to \(preview.total + 1), as an editor numbers them, when no field spans lines)")
            }
            preview.rows = lines.compactMap { byLine[$0] }
        } else {
            // Rows to send first among the kinds, then the skipped kinds, then more rows.
            let ordered = firstOfKind.filter { $0.status == "send" } + firstOfKind.filter { $0.status != "send" }
            preview.rows = Array((ordered + others).prefix(max(sample, 0))).sorted { $0.line < $1.line }
        }
        try recallSenders(&preview.rows, pooled: pooled, journalPath: journalPath)
        return preview
    }

    /// What the journal remembers for `numbers` and the pools' identities; nil from a journal an
    /// older herald wrote.
    private func remembered(_ numbers: [UInt64], journalPath: String) throws(JournalError) -> SenderRecall? {
        do {
            let identities = spec.routes.compactMap(\.pool).flatMap { $0.identities.map(\.key) }
            return try JournalOpener.planning(journalPath)?.rememberedSenders(identities: identities, among: numbers)
        } catch {
            if error.isOlderSchema { return nil }
            throw error
        }
    }

    /// Shows, for each pooled row, the identity the journal remembers for its recipient (sticky
    /// sender, `SenderMemory`) where the pool holds it, as a claim would choose it.
    private func recallSenders(_ rows: inout [Preview.Row], pooled: [Int: (route: Int, number: UInt64)],
                               journalPath: String?) throws {
        let shown = rows.compactMap { pooled[$0.line] }
        guard let journalPath, !shown.isEmpty, JournalOpener.exists(journalPath),
              let recall = try remembered(shown.map(\.number), journalPath: journalPath) else { return }
        let pools = spec.senders
        for index in rows.indices {
            guard let (route, number) = pooled[rows[index].line], let pool = pools.pool(route: route),
                  let recalled = pool.recalled(recall.keys(for: number)) else { continue }
            rows[index].sender = pool.identities[recalled].id
        }
    }
}

/// A `herald preview --rows` line that is not a data row.
public struct PreviewError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

