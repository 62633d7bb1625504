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
}
