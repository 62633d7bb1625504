import Foundation
import HeraldCore
import HeraldCSV
import HeraldSettings

/// `herald run --dry-run --sample N`: the provider validates a few rows, chosen as
/// `preview --sample` picks them, without waiting for the campaign's rate or windows; every row is
/// checked offline beside it.
public struct SampledDryRun: Sendable {
    /// The plan of the sampled rows alone: their own CSV, no rate (the provider's limits and
    /// `max_in_flight` still hold), no start time or window, its own id.
    public let plan: CampaignPlan
    /// The sampled CSV's line of each row -> its line in the campaign's CSV.
    public let originalLines: [Int: Int]

    /// Writes the rows at `lines` of the campaign's CSV (header first) into `folder`.
    public init(_ campaign: CampaignPlan, lines: [Int], folder: URL) throws {
        let wanted = Set(lines)
        let reader: CSVReader
        do {
            reader = try CSVReader(path: campaign.spec.recipientsPath)
        } catch {
            throw InputError(error)
        }
        var text = reader.header.map(Self.quoted).joined(separator: ",") + "\n"
        var map: [Int: Int] = [:]
        var next = 2
        try reader.forEachRecord { record in
            if wanted.contains(record.line) {
                text += (0..<record.count).map { Self.quoted(record.string($0)) }.joined(separator: ",") + "\n"
                map[next] = record.line
                next += 1
            }
            return map.count < wanted.count
        }
        let csv = folder.appendingPathComponent("sample.csv")
        try Data(text.utf8).write(to: csv)
        var spec = campaign.spec
        spec.recipientsPath = csv.path
        spec.id = String((campaign.spec.id + "-sample").prefix(64))
        spec.messagesPerSecond = nil
        spec.schedule = CampaignSpec.Schedule()
        plan = try campaign.replacing(spec: spec)
        originalLines = map
    }

    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CampaignPlan {
    /// This plan with another spec (the same template, prices and filter), its CSV header checked.
    func replacing(spec: CampaignSpec) throws(InputError) -> CampaignPlan {
        var plan = CampaignPlan(spec: spec, template: template, templateSHA: templateSHA, priceBook: priceBook, routeBooks: routeBooks)
        plan.segment = segment
        _ = try RecipientScanner(plan: plan)
        return plan
    }
}
