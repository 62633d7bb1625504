import Foundation
import HeraldTestSupport
import Testing

/// `herald preview` through the binary: chosen rows rendered with encoding, parts and cost, or
/// why they would be skipped; a sample covering each kind of row; and the HTML page, opened in
/// headless Chromium, drawing SMS bubbles with their part boundaries, an RCS card with its chips,
/// and a carousel.
@Suite(.serialized) struct PreviewCLITests {
    static let smsTemplate = """
        id: t
        channel: sms
        variables:
          name: {type: string, required: true}
          note: {type: string, default: ""}
        body: "Hi <name>! <note>"
        """

    static func smsFixture() throws -> CLIFixture {
        let fixture = try CLIFixture()
        try fixture.write("t.yaml", Self.smsTemplate)
        let long = String(repeating: "Your table is ready. ", count: 10)
        try fixture.write("recipients.csv", """
            phone,name,note
            +12025550101,Ada,See you soon
            +447700900001,Grace,“Curly quotes” cost more
            +12025550101,Ada again,
            not-a-number,Bad,
            +12025550102,Linus,\(long)

            """)
        try fixture.write("prices.csv", "country,channel,price\nUS,sms,0.01\nGB,sms,0.04\n")
        try fixture.write("c.yaml", """
            id: c
            template: t.yaml
            recipients: recipients.csv
            prices: prices.csv
            provider: {kind: simulator}
            where: name != Linus or country == US
            """)
        return fixture
    }

    @Test func chosenRowsShowTheMessageOrWhyNot() throws {
        let fixture = try Self.smsFixture()
        let result = try HeraldProcess.run(["preview", "c.yaml", "--rows", "2,3,4,5,6"], in: fixture.folder)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("line 2  +12025550101 (US)  via simulator\n  │ Hi Ada! See you soon\n  SMS GSM-7, 20 characters, 1 part, $0.01"), "\(out)")
        #expect(out.contains("line 3  +447700900001 (GB)  via simulator\n  │ Hi Grace! “Curly quotes” cost more\n  SMS UCS-2, 34 characters, 1 part, $0.04"), "\(out)")
        #expect(out.contains("line 4  +12025550101 (US)  skipped: duplicate"), "\(out)")
        #expect(out.contains("line 5  skipped: bad_number"), "\(out)")
        // 220 GSM-7 characters: two parts of at most 153.
        #expect(out.contains("part 1/2: Hi Linus!") && out.contains("part 2/2: ") && out.contains("2 parts, $0.02"), "\(out)")
        let json = try HeraldProcess.run(["preview", "c.yaml", "--rows", "6", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let row = (object?["rows"] as? [[String: Any]])?.first
        let parts = row?["part_texts"] as? [String] ?? []
        #expect(parts.count == 2 && parts.joined() == row?["body"] as? String && parts[0].count == 153, "\(parts.map(\.count))")
        let missing = try HeraldProcess.run(["preview", "c.yaml", "--rows", "2,40"], in: fixture.folder)
        #expect(missing.status == 3 && missing.stderr.contains("no data row at line 40"), "\(missing.stderr)")
        let bad = try HeraldProcess.run(["preview", "c.yaml", "--rows", "1"], in: fixture.folder)
        #expect(bad.status == 64, "\(bad.stderr)")
    }

    @Test func aSampleCoversEachKindOfRow() throws {
        let fixture = try Self.smsFixture()
        let result = try HeraldProcess.run(["preview", "c.yaml", "--sample", "5", "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = object?["rows"] as? [[String: Any]] ?? []
        let kinds = Set(rows.map { "\($0["country"] as? String ?? "")/\($0["encoding"] as? String ?? "")/\($0["status"] as? String ?? "")" })
        // US GSM-7, GB UCS-2, a duplicate, a bad number: each kind once before any repeat.
        #expect(kinds.isSuperset(of: ["US/GSM-7/send", "GB/UCS-2/send", "US/GSM-7/duplicate", "//bad_number"]), "\(kinds)")
        #expect(object?["total"] as? Int == 5)
    }

    @Test func thePageDrawsBubblesCardsAndCarousels() throws {
        let fixture = try Self.smsFixture()
        let sms = try HeraldProcess.run(["preview", "c.yaml", "--rows", "2,3,6", "--html", "sms.html"], in: fixture.folder)
        #expect(sms.status == 0, "\(sms.stderr)")
        try fixture.write("rcs.yaml", """
            id: r
            channel: rcs
            variables:
              name: {type: string, required: true}
            rcs:
              card:
                title: "Hello <name>"
                description: "Your order is on its way."
                media: {url: "https://example.com/box.jpg", height: medium}
                suggestions:
                  - {type: reply, text: "Track it"}
                  - {type: open_url, text: "Open", url: "https://example.com/o"}
            fallback_sms: "Hello <name>, your order is on its way."
            """)
        try fixture.write("carousel.yaml", """
            id: k
            channel: rcs
            variables:
              name: {type: string, required: true}
            rcs:
              carousel:
                width: medium
                cards:
                  - {title: "Tea for <name>", description: "Green", suggestions: [{type: reply, text: "Green"}]}
                  - {title: "Coffee", description: "Dark", suggestions: [{type: reply, text: "Dark"}]}
            """)
        try fixture.write("rcs-recipients.csv", "phone,name\n+12025550103,Ada\n")
        for (name, template) in [("rcs", "rcs.yaml"), ("carousel", "carousel.yaml")] {
            try fixture.write("\(name)-c.yaml", "id: \(name)\ntemplate: \(template)\nrecipients: rcs-recipients.csv\nprovider: {kind: simulator}\n")
            let result = try HeraldProcess.run(["preview", "\(name)-c.yaml", "--html", "\(name).html"], in: fixture.folder)
            #expect(result.status == 0, "\(result.stderr)")
        }
        guard let chromium = ReportTests.chromium else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("chromium is needed (.ci/run installs it)") }
            return
        }
        let smsDOM = try ReportTests.dumpDOM(chromium, "file://" + fixture.path("sms.html"))
        #expect(smsDOM.contains("<section class=\"phone\" id=\"line-2\">") && smsDOM.contains("Hi Ada! See you soon"))
        #expect(smsDOM.contains("<span class=\"part-label\">part 1 of 2</span>") && smsDOM.contains("part boundary"), "part boundaries")
        #expect(smsDOM.contains("SMS UCS-2 · 34 characters · 1 part · $0.04"))
        let rcsDOM = try ReportTests.dumpDOM(chromium, "file://" + fixture.path("rcs.html"))
        #expect(rcsDOM.contains("<div class=\"card-title\">Hello Ada</div>") && rcsDOM.contains("<span class=\"chip\">Track it</span>")
            && rcsDOM.contains("https://example.com/box.jpg") && rcsDOM.contains("SMS fallback: Hello Ada"), "\(rcsDOM)")
        let carouselDOM = try ReportTests.dumpDOM(chromium, "file://" + fixture.path("carousel.html"))
        #expect(carouselDOM.contains("<div class=\"cards carousel\">") && carouselDOM.contains("Tea for Ada")
            && carouselDOM.contains("<span class=\"chip\">Dark</span>"), "\(carouselDOM)")
    }
}
