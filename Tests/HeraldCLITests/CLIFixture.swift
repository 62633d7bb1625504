import Foundation
import HeraldJournal
import HeraldSQLite

/// Files for a CLI test in a fresh temporary folder. Numbers are fictional
/// (+44 7700 900xxx and +1 NPA 555 01xx).
struct CLIFixture {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: folder.appendingPathComponent(name))
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static let template = """
        id: t
        channel: sms
        variables:
          name: {type: string, required: true}
          code: {type: string, required: true, pattern: "[A-Z0-9]{4}"}
        body: "Hi <name>, your code is <code>"
        """

    /// A campaign `id` over `csv` with the standard template.
    func campaign(_ id: String = "c", csv: String = "recipients.csv", provider: String = "{kind: simulator}",
                  extra: String = "") throws -> String {
        try write("template.yaml", Self.template)
        try write("\(id).yaml", """
            id: \(id)
            template: template.yaml
            recipients: \(csv)
            provider: \(provider)
            \(extra)
            """)
        return "\(id).yaml"
    }

    /// `count` valid rows: +1 NPA 555 01xx numbers, 100 per area code.
    static func rows(_ count: Int) -> [(phone: String, line: String)] {
        (0..<count).map { index in
            let phone = "+1\(201 + index / 100)55501\(String(format: "%02d", index % 100))"
            return (phone, "\(phone),Person \(index),C\(String(format: "%03d", index % 1000))")
        }
    }

    /// A logical snapshot of a journal: campaigns and every message row's state.
    func snapshot(_ journal: String = "journal.sqlite") throws -> String {
        let journal = try Journal(path: path(journal), create: false)
        var lines: [String] = []
        for record in try journal.campaigns() {
            lines.append("\(record.id) \(record.state) \(record.totalRows) \(record.templateSHA) \(record.recipientsSHA)")
            let counts = try journal.counts(cid: record.cid)
            lines.append(MessageState.allCases.map { "\($0.name)=\(counts[$0])" }.joined(separator: " "))
            lines.append(counts.byReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
