import Foundation
import HeraldCore
import Testing
@testable import HeraldEngine

@Suite struct FinishTimeTests {
    let iso = ISO8601DateFormatter()
    func date(_ text: String) -> Date { iso.date(from: text)! }

    @Test func withoutAWindowItIsUnitsOverRate() {
        let start = date("2026-12-01T08:00:00Z")
        let finish = FinishTime.estimate(groups: [(nil, 1000)], rate: 10, burst: 0, window: nil, start: start)
        #expect(finish == start.addingTimeInterval(100))
    }

    @Test func anHourAWindowTakesTwoDaysForTwoHoursOfSends() {
        let window = SendWindow(start: "09:00", end: "10:00")!
        let finish = FinishTime.estimate(groups: [("UTC", 7200)], rate: 1, burst: 0, window: window,
                                         start: date("2026-12-01T08:00:00Z"))
        #expect(finish == date("2026-12-02T10:00:00Z"))
    }

    @Test func zonesWhoseWindowsDifferShareTheRate() {
        // 09:00-10:00 local: 07:00Z for UTC+2 recipients, 09:00Z for UTC ones; 1,800 units each at 1/s.
        let window = SendWindow(start: "09:00", end: "10:00")!
        let finish = FinishTime.estimate(groups: [("UTC", 1800), ("Etc/GMT-2", 1800)], rate: 1, burst: 0, window: window,
                                         start: date("2026-12-01T06:00:00Z"))
        #expect(finish == date("2026-12-01T09:30:00Z"))
    }

    @Test func windowsThatNeverOpenTogetherGiveNoFinish() {
        let window = SendWindow(start: "09:00", end: "09:30", days: [.mon])!
        let zones = "Pacific/Kiritimati,Pacific/Pago_Pago"  // 25 hours apart: never open at once
        #expect(FinishTime.estimate(groups: [(zones, 10)], rate: 1, burst: 0, window: window,
                                    start: date("2026-12-01T00:00:00Z")) == nil)
    }

    /// Estimate's window lines: rows open when the campaign starts, then rows by when their
    /// window opens (Tokyo's 08:00 is 23:00Z; Los Angeles's 08:00 is 16:00Z the same day).
    @Test func windowOpeningsGroupRowsByWhenTheirWindowOpens() throws {
        let window = try #require(SendWindow(start: "08:00", end: "20:00"))
        let start = try #require(ISO8601DateFormatter().date(from: "2026-12-07T14:00:00Z"))
        let lines = CampaignPlan.windowOpenings(
            zones: [("Europe/London", 5), ("Asia/Tokyo", 3), ("America/Los_Angeles", 2), (nil, 1), ("Asia/Tokyo,Europe/London", 4), ("Europe/Paris", 0)],
            window: window, at: start)
        #expect(lines == [
            Estimate.WindowLine(opensAt: nil, rows: 6),
            Estimate.WindowLine(opensAt: "2026-12-07T16:00:00Z", rows: 2),
            Estimate.WindowLine(opensAt: "2026-12-07T23:00:00Z", rows: 3),
            // A list is open when every zone of it is: Tokyo and London overlap 08:00-11:00Z.
            Estimate.WindowLine(opensAt: "2026-12-08T08:00:00Z", rows: 4),
        ], "\(lines)")
    }
}
