import Foundation
import HeraldCore
import HeraldSettings
import HeraldJournal
import HeraldSQLite
import Testing
@testable import HeraldEngine

/// Templates of every channel, read from YAML and sent on the simulator: what the
/// outbox receives is the rendered content.
@Suite struct ChannelTemplateTests {
    static let rows = "phone,name,code,points\n+44 7700 900001,Ada,AB12,7\n+44 7700 900002,Bob,CD34,\n"

    /// Runs a campaign of `template` on the simulator; returns the outbox lines as JSON.
    func send(_ template: String) async throws -> [[String: Any]] {
        let fixture = try Fixture(rows: Self.rows, template: template)
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed && summary.counts[.sent] == 2)
        let data = try #require(FileManager.default.contents(atPath: fixture.outboxPath))
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
    }

    @Test func notifyTemplatesSendEveryVariableAsText() async throws {
        let lines = try await send("""
            id: otp
            channel: notify-text
            variables:
              code: {type: string, required: true}
              points: {type: integer, default: 0}
            notify_template_id: notify-code-001
            """)
        #expect(lines.map { $0["channel"] as? String } == ["notify-text", "notify-text"])
        let content = try #require(lines.first?["content"] as? [String: Any])
        #expect(content["template_id"] as? String == "notify-code-001")
        // The two sends go concurrently: the outbox holds them in the order they finished.
        let variables = lines.compactMap { ($0["content"] as? [String: Any])?["variables"] as? [String: String] }
            .sorted { ($0["code"] ?? "") < ($1["code"] ?? "") }
        #expect(variables == [["code": "AB12", "points": "7"], ["code": "CD34", "points": "0"]])
    }

    /// The outbox line sent to `destination`.
    static func line(to destination: String, in lines: [[String: Any]]) -> [String: Any]? {
        lines.first { $0["destination"] as? String == destination }
    }

    @Test func mmsAndVoiceTemplates() async throws {
        let mms = try await send("""
            id: m
            channel: mms
            variables: {name: {type: string}}
            body: "Hi <name>"
            media_urls: "s3://bucket/<name>.jpg"
            """)
        // The sends go concurrently: the outbox holds them in the order they finished.
        let picture = try #require(Self.line(to: "+447700900001", in: mms)?["content"] as? [String: Any])
        #expect(picture["body"] as? String == "Hi Ada" && picture["media_urls"] as? [String] == ["s3://bucket/Ada.jpg"])
        let voice = try await send("""
            id: v
            channel: voice
            variables: {name: {type: string}}
            body: '\\<speak>Hello <name>\\</speak>'   # SSML: a literal "<" is written \\<
            body_type: ssml
            """)
        let content = try #require(Self.line(to: "+447700900001", in: voice)?["content"] as? [String: Any])
        #expect(content["body"] as? String == "<speak>Hello Ada</speak>" && content["text_type"] as? String == "SSML")
    }

    /// An RCS card in two languages, each with conditional text in its fields and fallback:
    /// each row's content is its language's, rendered for its values.
    @Test func rcsVariantsPerLanguageWithConditions() async throws {
        let rows = "phone,name,code,points,lang\n+44 7700 900001,Ada,AB12,7,es\n+44 7700 900002,Bob,CD34,,pt-BR\n+44 7700 900003,Cy,EF56,3,\n"
        let fixture = try Fixture(rows: rows, template: """
            id: card
            channel: rcs
            variables:
              name: {type: string, required: true}
              code: {type: string, required: true}
              points: {type: integer}
            language:
              column: lang
              default: en
              variants:
                en:
                  rcs:
                    card: {title: "Hi <name>", description: "Code <code>.<points? You have <points> points.>"}
                  fallback_sms: "Hi <name>, code <code><points?, <points> pts>"
                es:
                  rcs:
                    card: {title: "Hola <name>", description: "Código <code>.<!points? Aún sin puntos.>"}
                  fallback_sms: "Hola <name>, código <code>"
            """)
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 3)
        let data = try #require(FileManager.default.contents(atPath: fixture.outboxPath))
        let lines = try data.split(separator: UInt8(ascii: "\n")).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
        func card(_ destination: String) -> [String: Any]? {
            ((Self.line(to: destination, in: lines)?["content"] as? [String: Any])?["card"]) as? [String: Any]
        }
        #expect(card("+447700900001")?["title"] as? String == "Hola Ada")
        #expect(card("+447700900001")?["description"] as? String == "Código AB12.")
        // pt-BR has no variant: the default's, without the points it lacks.
        #expect(card("+447700900002")?["title"] as? String == "Hi Bob")
        #expect(card("+447700900002")?["description"] as? String == "Code CD34.")
        #expect(card("+447700900003")?["description"] as? String == "Code EF56. You have 3 points.")
        let fallback = (Self.line(to: "+447700900003", in: lines)?["content"] as? [String: Any])?["fallback_sms"] as? String
        #expect(fallback == "Hi Cy, code EF56, 3 pts")
        let journal = try Journal(path: fixture.journalPath)
        let cid = try #require(try journal.campaign(id: "test-campaign")?.cid)
        #expect(try journal.languageTotals(cid: cid).map { [$0.language: $0[.sent]] } == [["en": 2], ["es": 1]])
    }

    @Test(arguments: [
        ("id: t\nchannel: rcs\nrcs:\n  card:\n    title: Hi\n    colour: red\n", "template.yaml:6: unknown key \"colour\" in rcs.card"),
        ("id: t\nchannel: rcs\nrcs:\n  carousel:\n    cards:\n      - {title: One}\n", "template.yaml:5: rcs.carousel.cards: 1 cards; a carousel has 2 to 10"),
        ("id: t\nchannel: rcs\nrcs:\n  text: Hi\n  suggestions:\n    - {type: wave, text: Hi}\n", "template.yaml:6: rcs.suggestions[0].type: \"wave\" is not a suggestion type"),
        ("id: t\nchannel: rcs\nrcs:\n  text: Hi\nfallback_sms: a\nfallback_mms: {media_url: \"s3://b/k\"}\n", "template.yaml:6: fallback_mms: choose fallback_sms or fallback_mms, not both"),
        ("id: t\nchannel: mms\nbody: Hi\n", "template.yaml:1: missing required key \"media_urls\""),
        ("id: t\nchannel: voice\nbody: Hi\nbody_type: mp3\n", "template.yaml:4: body_type: must be text or ssml"),
        ("id: t\nchannel: notify-text\n", "template.yaml:1: a Notify template needs variables"),
        ("id: t\nchannel: sms\nbody: Hi\nrcs: {text: Hi}\n", "template.yaml:4: unknown key \"rcs\""),
        ("id: t\nchannel: rcs\nvariables: {name: {type: string}}\nrcs:\n  card: {title: \"Hi <nmae>\"}\n", "template.yaml:4: rcs.card.title: placeholder <nmae> is not a declared variable"),
        ("id: t\nbody: \"Hi <vip?gold\"\n", "template.yaml:2: body, column 4: this condition is never closed"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: de\n  variants:\n    en: {body: Hi}\n", "template.yaml:5: language.default: \"de\" has no variant (variants: en)"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n  variants:\n    en: {body: Hi}\n    english: {body: Hi}\n", "template.yaml:8: language.variants.english: \"english\" is not a language code"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n  variants:\n    en: {body: Hi}\n    EN: {body: Hi}\n", "template.yaml:8: language.variants.EN: language \"EN\" has two variants"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n  variants:\n    en: {body: Hi}\n    es: {body: \"Hola <nmae>\"}\n", "template.yaml:8: language.variants.es: placeholder <nmae> is not a declared variable"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n  variants:\n    en: {body: Hi, rcs: {text: Hi}}\n", "template.yaml:7: unknown key \"rcs\" in language.variants.en"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n  variants:\n    en: {body: \"Hi <x?y\"}\n", "template.yaml:7: language.variants.en.body, column 4: this condition is never closed"),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\nbody: Hi\n", "template.yaml:6: unknown key \"body\""),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: lang\n  default: en\n", "template.yaml:4: missing required key \"language.variants\""),
        ("id: t\nvariables: {name: {type: string}}\nlanguage:\n  column: language\n  default: en\n  variants:\n    en: {body: Hi}\n", "not a column"),
    ])
    func templateMistakesNameTheFileLineAndKey(template: String, expected: String) throws {
        let fixture = try Fixture(rows: Self.rows, template: template)
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }
}
