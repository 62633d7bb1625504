import Foundation
import Testing

/// The campaigns shipped in `campaigns/` run as the README says, with the real
/// binary, on a copy of the example folders.
@Suite struct ShippedExamplesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A temporary copy of campaigns/, templates/, recipients/ and prices/.
    func copy() throws -> CLIFixture {
        let fixture = try CLIFixture()
        for folder in ["campaigns", "templates", "recipients", "prices"] {
            try FileManager.default.copyItem(at: Self.repository.appendingPathComponent(folder),
                                             to: fixture.folder.appendingPathComponent(folder))
        }
        return fixture
    }

    @Test func theRCSExampleSendsRichCardsAndSkipsTheRowWithABadDate() throws {
        let fixture = try copy()
        let validate = try HeraldProcess.run(["validate", "campaigns/appointment-rcs.yaml"], in: fixture.folder)
        #expect(validate.status == 3)
        #expect(validate.stdout.contains("appointments.csv:6: rcs.card.suggestions[2].end: \"next week\" is not an ISO 8601 date-time"),
                "\(validate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/appointment-rcs.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("4 sent, 0 failed, 1 skipped (invalid_content 1)"), "\(run.stdout)")
        let outbox = try #require(FileManager.default.contents(atPath: fixture.path(".herald/appointment-rcs-outbox.jsonl")))
        let lines = try outbox.split(separator: UInt8(ascii: "\n")).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
        #expect(lines.count == 4 && lines.allSatisfy { $0["channel"] as? String == "rcs" })
        let first = try #require(lines.first { $0["destination"] as? String == "+12025550111" }?["content"] as? [String: Any])
        let card = try #require(first["card"] as? [String: Any])
        #expect(card["title"] as? String == "Your appointment, Ada")
        #expect((card["suggestions"] as? [[String: Any]])?.first?["postback"] as? String == "confirm-RV1234")
        #expect(first["fallback_sms"] as? String == "Hi Ada, reminder: Tue 1 Dec 09:30 at Riverside Clinic (booking RV1234). Reply C to confirm.")
        let estimate = try HeraldProcess.run(["estimate", "campaigns/appointment-rcs.yaml", "--journal", "journal.sqlite"],
                                             in: fixture.folder)
        #expect(estimate.stdout.contains("already sent"), "\(estimate.stdout)")
    }

    @Test func theSMSExampleRuns() throws {
        let fixture = try copy()
        let run = try HeraldProcess.run(["run", "campaigns/welcome.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("completed"), "\(run.stdout)")
    }

    /// The routing example: the US rows through `first`, the UK ones through `second`, as its
    /// comment and the README say; each simulator's outbox holds its own.
    @Test func theRoutingExampleSendsEachCountryThroughTheCheaperProvider() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/routed.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("cost by provider (routing: least_cost)"), "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/routed.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0 && run.stdout.contains("9 sent"), "\(run.stdout)\n\(run.stderr)")
        func destinations(_ file: String) throws -> [String] {
            let data = try #require(FileManager.default.contents(atPath: fixture.path(".herald/\(file)")))
            return try data.split(separator: UInt8(ascii: "\n")).map {
                try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])["destination"] as? String ?? "?"
            }
        }
        #expect(try destinations("routed-first-outbox.jsonl").allSatisfy { $0.hasPrefix("+1") })
        #expect(try destinations("routed-second-outbox.jsonl").allSatisfy { $0.hasPrefix("+44") })
        #expect(try destinations("routed-first-outbox.jsonl").count + destinations("routed-second-outbox.jsonl").count == 9)
    }

    /// The outbox lines of one shipped simulator, as objects.
    func outbox(_ fixture: CLIFixture, _ name: String) throws -> [[String: Any]] {
        let data = try #require(FileManager.default.contents(atPath: fixture.path(".herald/\(name)")))
        return try data.split(separator: UInt8(ascii: "\n")).map { try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
    }

    @Test func theSegmentExampleSendsOnlyItsSegment() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/segment.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("rows 10: 2 to send, 8 left out by where:") && estimate.stdout.contains("country == GB"),
                "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/segment.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // GB rows with 5 points or more, Barbara left out: Edsger (40) and Ken (7).
        let sent = try outbox(fixture, "segment-outbox.jsonl").compactMap { $0["destination"] as? String }
        #expect(sent.sorted() == ["+447700900001", "+447700900005"], "\(sent)")
    }

    /// A segment, two languages, conditional text and smart encoding, on both journals: the
    /// outbox holds exactly the rows in the segment, each with its language's text for its
    /// values; estimate and status count them by language.
    @Test(arguments: SenderPoolCLITests.Journal.allCases)
    func theReminderExampleSendsEachRowItsLanguagesText(_ journal: SenderPoolCLITests.Journal) throws {
        let url: String
        switch journal {
        case .sqlite: url = "journal.sqlite"
        case .postgres:
            guard let database = try PostgresClusterTests.database() else { return }
            url = database
        }
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/reminder.yaml", "--json"], in: fixture.folder)
        let planned = try JSONSerialization.jsonObject(with: Data(estimate.stdout.utf8)) as? [String: Any]
        let byLanguage = (planned?["by_language"] as? [[String: Any]] ?? []).map { [$0["language"] as? String ?? "": $0["messages"] as? Int ?? -1] }
        #expect(byLanguage == [["en": 4], ["es": 2]], "\(estimate.stdout)")
        #expect(planned?["filtered"] as? Int == 2)
        // Smart encoding: the English rows' curly apostrophe; the Spanish accents stay UCS-2.
        #expect((planned?["smart_encoding"] as? [String: Any])?["rows_changed"] as? Int == 4, "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/reminder.yaml", "--journal", url], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        var sent: [String: String] = [:]
        for line in try outbox(fixture, "reminder-outbox.jsonl") {
            sent[line["destination"] as? String ?? "?"] = line["body"] as? String
        }
        let en = { (name: String, when: String, clinic: String, extra: String) in
            "Hi \(name), we're expecting you \(when) at \(clinic).\(extra) Reply C to confirm."
        }
        let es = { (name: String, when: String, extra: String) in
            "Hola \(name), le esperamos \(when) en Clínica Norte.\(extra) Responda C para confirmar."
        }
        #expect(sent == [
            "+447700900101": en("Amelia", "tomorrow 09:30", "North Clinic", " Your lounge pass is at the desk."),
            "+447700900102": es("Lucía", "mañana 10:00", " ¿Primera visita? Venga 10 minutos antes."),
            "+447700900103": es("Mateo", "mañana 11:15", " Su pase VIP está en recepción."),
            "+447700900104": en("Oliver", "tomorrow 12:00", "North Clinic", " First visit? Come 10 minutes early."),
            "+447700900105": en("Chloé", "demain 14:00", "North Clinic", ""),
            "+12025550108": en("Noah", "tomorrow 17:00", "Capitol Clinic", " Your lounge pass is at the desk."),
        ])
        let status = try HeraldProcess.run(["status", "reminder", "--json", "--journal", url], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let languages = (object?["languages"] as? [[String: Any]] ?? []).map {
            "\($0["language"] as? String ?? "?") sent \($0["sent"] as? Int ?? -1) skipped \($0["skipped"] as? Int ?? -1)"
        }
        #expect(languages == ["en sent 4 skipped 1", "es sent 2 skipped 1"], "\(status.stdout)")
        let text = try HeraldProcess.run(["status", "reminder", "--journal", url], in: fixture.folder)
        #expect(text.stdout.contains("language es: sent 2, failed 0, skipped 1"), "\(text.stdout)")
        let report = try HeraldProcess.run(["report", "reminder", "--json", "--html", "report.html", "--csv", "recipients-out.csv",
                                            "--journal", url], in: fixture.folder)
        let csv = try String(contentsOfFile: fixture.path("recipients-out.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first?.hasSuffix(",provider_ref,language") == true, "\(csv.first ?? "")")
        // Line 3 (Lucía, es) and line 5 (Oliver, no language: the default).
        #expect(csv.first { $0.hasPrefix("3,") }?.hasSuffix(",es") == true && csv.first { $0.hasPrefix("5,") }?.hasSuffix(",en") == true,
                "\(csv)")
        let reported = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        #expect((reported?["languages"] as? [[String: Any]] ?? []).map { $0["language"] as? String } == ["en", "es"], "\(report.stdout)")
        let page = try String(contentsOfFile: fixture.path("report.html"), encoding: .utf8)
        #expect(page.contains("<table id=\"languages\">") && page.contains("<tr><td>es</td><td class=\"num\">2</td>"))
    }

    @Test func thePoolExampleSendsEachRecipientFromItsIdentity() throws {
        let fixture = try copy()
        let estimate = try HeraldProcess.run(["estimate", "campaigns/pool.yaml"], in: fixture.folder)
        #expect(estimate.stdout.contains("by sender (sticky"), "\(estimate.stdout)")
        let run = try HeraldProcess.run(["run", "campaigns/pool.yaml", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = try outbox(fixture, "pool-outbox.jsonl")
        #expect(lines.count == 9)
        // Geomatch: UK numbers from the UK identity, US numbers from a US one.
        for line in lines {
            let to = line["destination"] as? String ?? "", from = line["from"] as? String ?? ""
            #expect(to.hasPrefix("+44") ? from == "+447700900100" : ["+15550100", "+15550101"].contains(from), "\(to) from \(from)")
        }
        let status = try HeraldProcess.run(["status", "pool", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(status.stdout.contains("sender +447700900100 (simulator): sent 5"), "\(status.stdout)")
    }
}
