import Foundation
@testable import HeraldEngine

/// A campaign, template and recipient CSV written into a fresh temporary folder.
struct Fixture {
    let folder: URL
    var campaignPath: String { folder.appendingPathComponent("campaign.yaml").path }
    var journalPath: String { folder.appendingPathComponent("journal.sqlite").path }
    var outboxPath: String { folder.appendingPathComponent("outbox.jsonl").path }
    var csvPath: String { folder.appendingPathComponent("recipients.csv").path }

    static let template = """
        id: t
        channel: sms
        variables:
          name: {type: string, required: true, max_length: 20}
          code: {type: string, required: true, pattern: "[A-Z0-9]{4}"}
          points: {type: integer, default: 0}
        body: "Hi <name>, code <code>, <points> points"
        """

    init(rows csv: String, provider: String = "{kind: simulator, outbox: outbox.jsonl}", extra: String = "",
         template: String = Fixture.template) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try template.write(to: folder.appendingPathComponent("template.yaml"), atomically: true, encoding: .utf8)
        try csv.write(to: folder.appendingPathComponent("recipients.csv"), atomically: true, encoding: .utf8)
        try """
        id: test-campaign
        template: template.yaml
        recipients: recipients.csv
        provider: \(provider)
        \(extra)
        """.write(to: folder.appendingPathComponent("campaign.yaml"), atomically: true, encoding: .utf8)
    }

    /// `count` valid rows with distinct fictional numbers (+44 7700 900000 onwards).
    static func validRows(_ count: Int, from start: Int = 0) -> String {
        (start..<(start + count)).map { "+44 7700 \(900000 + $0),Name\($0),C\(String(format: "%03d", $0 % 1000)),\($0)" }
            .joined(separator: "\n")
    }

    func runner(_ options: RunOptions = RunOptions(), stop: StopSignal = StopSignal()) throws -> CampaignRunner {
        CampaignRunner(plan: try CampaignPlan.load(campaignPath: campaignPath), journalPath: journalPath,
                       options: options, stop: stop)
    }

    /// Outbox lines as (idempotency key, destination, body).
    func outbox() throws -> [(key: String, destination: String, body: String)] {
        guard let data = FileManager.default.contents(atPath: outboxPath) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            return (object["idempotency_key"] as! String, object["destination"] as! String, object["body"] as! String)
        }
    }
}
