import Foundation
import HeraldStore

/// A campaign's standing as `herald status` shows it (and prints with `--json`).
public struct CampaignStatus: Codable, Sendable {
    public struct Lease: Codable, Sendable {
        public let pid: Int
        public let host: String
        public let heartbeat: String
    }

    public let campaign: String
    public let state: String
    public let campaignFile: String
    public let total: Int
    /// Every message state, zero included.
    public let counts: [String: Int]
    /// Skipped and failed rows by reason.
    public let reasons: [String: Int]
    /// CSV lines of rows in doubt (first 100).
    public let inDoubtRows: [Int]
    public let updatedAt: String
    public let lease: Lease?

    enum CodingKeys: String, CodingKey {
        case campaign, state, total, counts, reasons, lease
        case campaignFile = "campaign_file"
        case inDoubtRows = "in_doubt_rows"
        case updatedAt = "updated_at"
    }

    /// Statuses of one campaign (by id) or of every campaign in the journal.
    public static func load(journalPath: String, id: String?) throws -> [CampaignStatus] {
        let journal = try Journal(path: journalPath, create: false)
        let records: [CampaignRecord]
        if let id {
            guard let record = try journal.campaign(id: id) else { throw JournalError.unknownCampaign(id, path: journalPath) }
            records = [record]
        } else {
            records = try journal.campaigns()
        }
        return try records.map { record in
            let counts = try journal.counts(cid: record.cid)
            let doubt = try journal.rows(cid: record.cid, in: [.inDoubt], limit: 100).map(\.row)
            var byState: [String: Int] = [:]
            for state in MessageState.allCases { byState[state.name] = counts[state] }
            let lease = record.leasePID.map {
                Lease(pid: $0, host: record.leaseHost ?? "", heartbeat: iso(record.leaseHeartbeat ?? 0))
            }
            return CampaignStatus(
                campaign: record.id, state: record.state.rawValue, campaignFile: record.campaignPath,
                total: counts.total, counts: byState, reasons: counts.byReason, inDoubtRows: doubt,
                updatedAt: iso(record.updatedAt), lease: lease)
        }
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
