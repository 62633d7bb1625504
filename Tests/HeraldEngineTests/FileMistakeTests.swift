import Foundation
import HeraldCore
@testable import HeraldEngine
import Testing

/// Mistakes in campaign and template files that were read as something else, or blamed on
/// the wrong key: each is now refused at its own line, saying what is wrong.
@Suite struct FileMistakeTests {
    static let row = "phone,name,code,points\n+44 7700 900001,Ann,AB12,3\n"

    static func error(campaign extra: String = "", template: String = Fixture.template) throws -> String {
        let fixture = try Fixture(rows: row, extra: extra, template: template)
        do {
            _ = try CampaignPlan.load(campaignPath: fixture.campaignPath)
            return ""
        } catch {
            let text = "\(error)"
            return String(text[(text.range(of: fixture.folder.lastPathComponent + "/")?.upperBound ?? text.startIndex)...])
        }
    }

    @Test(arguments: [
        ("budget: {campaign_limit: \"$50\"}", "campaign.yaml:5: budget.campaign_limit: write the amount as a plain number of US dollars, such as 50, without a currency sign"),
        ("budget: {max_price: -0.05}", "campaign.yaml:5: budget.max_price: must not be negative (-0.05)"),
        ("budget: {monthly_limit: 50 USD}", "campaign.yaml:5: budget.monthly_limit: write the amount as a plain number of US dollars, such as 50, without a currency sign"),
        ("schedule:\n  window: {start: \"08:00\", end: \"25:00\"}", "campaign.yaml:6: schedule.window.end: \"25:00\" is not a time of day as HH:MM (00:00 to 24:00)"),
        ("schedule:\n  window: {start: \"8am\", end: \"20:00\"}", "campaign.yaml:6: schedule.window.start: \"8am\" is not a time of day as HH:MM (00:00 to 23:59)"),
        ("schedule:\n  window: {start: \"08:00\", end: \"08:00\"}",
         "campaign.yaml:6: schedule.window.end: \"08:00\" is the window's start too: a window needs two different times"),
        ("schedule:\n  window: {start: \"08:00\", end: \"20:00\", days: []}", "campaign.yaml:6: schedule.window.days: a window needs at least one day"),
    ])
    func campaignMistakes(extra: String, expected: String) throws {
        #expect(try Self.error(campaign: extra) == expected)
    }

    /// 24:00 is the end of the day: 08:00-24:00 is open at 23:59 and closed at midnight.
    @Test func aWindowMayEndAt2400() throws {
        let fixture = try Fixture(rows: Self.row, extra: "schedule:\n  window: {start: \"08:00\", end: \"24:00\"}\n  timezone: UTC")
        let window = try #require(try CampaignPlan.load(campaignPath: fixture.campaignPath).spec.schedule.window)
        let utc = try #require(TimeZone(identifier: "UTC"))
        #expect(window.state(at: Date(timeIntervalSince1970: 86_400 - 60), in: utc).open)
        #expect(!window.state(at: Date(timeIntervalSince1970: 86_400), in: utc).open)
        #expect(!window.state(at: Date(timeIntervalSince1970: 86_400 + 7 * 3600), in: utc).open)
    }

    @Test func aVariablesMistakeIsReportedAtItsOwnLine() throws {
        // Fixture.template's points line is line 6; written as a block, its default is line 8.
        let badDefault = Fixture.template.replacingOccurrences(of: "points: {type: integer, default: 0}",
                                                              with: "points:\n    type: integer\n    default: lots")
        let defaultError = try Self.error(template: badDefault)
        #expect(defaultError.hasPrefix("template.yaml:8: ") && defaultError.contains("lots"), "\(defaultError)")
        let wrongType = Fixture.template.replacingOccurrences(of: "points: {type: integer, default: 0}",
                                                             with: "points:\n    type: integer\n    pattern: \"[0-9]+\"")
        let typeError = try Self.error(template: wrongType)
        #expect(typeError.hasPrefix("template.yaml:8: ") && typeError.contains("pattern"), "\(typeError)")
    }

    @Test func monthsPrintAsPeopleReadThem() {
        #expect(BillingMonth.label(202612) == "2026-12")
        #expect(BillingMonth.label(202601) == "2026-01")
        #expect(BillingMonth.label(202613) == "202613")
        #expect(BillingMonth.label(-5) == "-5")
    }
}
