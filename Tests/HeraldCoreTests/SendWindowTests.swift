import Foundation
import Testing
@testable import HeraldCore

@Suite struct SendWindowTests {
    let iso = ISO8601DateFormatter()
    func date(_ text: String) -> Date { iso.date(from: text)! }
    let utc = TimeZone(identifier: "UTC")!
    let newYork = TimeZone(identifier: "America/New_York")!

    @Test func weekdayWindowOpensAndClosesInLocalTime() {
        let window = SendWindow(start: "09:00", end: "20:00", days: [.mon, .tue, .wed, .thu, .fri])!
        // Monday 2026-11-23 10:00 in New York = 15:00Z.
        let open = window.state(at: date("2026-11-23T15:00:00Z"), in: newYork)
        #expect(open.open && open.until == date("2026-11-24T01:00:00Z"))
        // Friday 21:00 New York: closed until Monday 09:00 (14:00Z).
        let weekend = window.state(at: date("2026-11-28T02:00:00Z"), in: newYork)
        #expect(!weekend.open && weekend.until == date("2026-11-30T14:00:00Z"))
    }

    @Test func windowCrossingMidnightBelongsToTheDayItOpens() {
        let window = SendWindow(start: "22:00", end: "02:00", days: [.mon])!
        // Tuesday 01:00: still Monday's window.
        let late = window.state(at: date("2026-11-24T01:00:00Z"), in: utc)
        #expect(late.open && late.until == date("2026-11-24T02:00:00Z"))
        // Tuesday 23:00: Tuesday is not a window day; next is Monday 22:00.
        let next = window.state(at: date("2026-11-24T23:00:00Z"), in: utc)
        #expect(!next.open && next.until == date("2026-11-30T22:00:00Z"))
    }

    @Test func springForwardGapOpensAtTheFirstRealMinute() {
        // 2026-03-08: New York clocks go from 02:00 EST to 03:00 EDT; 02:30 never happens.
        let window = SendWindow(start: "02:30", end: "05:00")!
        let before = window.state(at: date("2026-03-08T06:00:00Z"), in: newYork)  // 01:00 EST
        #expect(!before.open && before.until == date("2026-03-08T07:00:00Z"), "03:00 EDT")
        let inside = window.state(at: date("2026-03-08T08:00:00Z"), in: newYork)  // 04:00 EDT
        #expect(inside.open && inside.until == date("2026-03-08T09:00:00Z"))
    }

    @Test func fallBackRepeatedHourUsesTheFirstOccurrence() {
        // 2026-11-01: 01:00-02:00 happens twice in New York (EDT, then EST).
        let window = SendWindow(start: "01:30", end: "03:00")!
        let state = window.state(at: date("2026-11-01T04:00:00Z"), in: newYork)  // 00:00 EDT
        #expect(!state.open && state.until == date("2026-11-01T05:30:00Z"), "01:30 EDT")
        let closes = window.state(at: date("2026-11-01T06:00:00Z"), in: newYork)
        #expect(closes.open && closes.until == date("2026-11-01T08:00:00Z"), "03:00 EST")
    }

    @Test func severalZonesOpenOnlyWhereAllAreOpen() {
        let window = SendWindow(start: "09:00", end: "20:00")!
        let zones = ["America/New_York", "America/Los_Angeles"].map { TimeZone(identifier: $0)! }
        // 10:00 in New York is 07:00 in Los Angeles: closed until 09:00 Pacific (17:00Z).
        let early = window.state(at: date("2026-11-23T15:00:00Z"), inEvery: zones)
        #expect(!early.open && early.until == date("2026-11-23T17:00:00Z"))
        // 13:00 Eastern / 10:00 Pacific: open until 20:00 Eastern (01:00Z).
        let open = window.state(at: date("2026-11-23T18:00:00Z"), inEvery: zones)
        #expect(open.open && open.until == date("2026-11-24T01:00:00Z"))
    }

    @Test(arguments: [
        ("+1 212 555 0100", ["America/New_York"]), ("+1 415 555 0100", ["America/Los_Angeles"]),
        ("+1 808 555 0100", ["Pacific/Honolulu"]), ("+1 602 555 0100", ["America/Phoenix"]),
        ("+1 416 555 0100", ["America/Toronto"]), ("+44 7700 900123", ["Europe/London"]),
    ])
    func zonesComeFromTheNumber(number: String, zones: [String]) throws {
        #expect(RecipientZones.zones(for: try PhoneNumber.parse(Array(number.utf8))) == zones)
    }

    @Test func multiZoneCountriesGiveEveryZone() throws {
        let australia = try #require(RecipientZones.zones(for: try PhoneNumber.parse(Array("+61 491 570 156".utf8))))
        #expect(australia.count == 5)
        // An area code the table leaves out counts as every US zone.
        #expect(RecipientZones.zones(for: try PhoneNumber.parse(Array("+1 907 555 0100".utf8))) == ["America/Anchorage"])
        #expect(RecipientZones.zones(for: PhoneNumber(digits: 12995550100, region: "US"))?.count == 7)
    }

    @Test func everyListedZoneExists() {
        for zone in Set(RecipientZones.nanpZone.values).union(RecipientZones.byRegion.values.flatMap { $0 }) {
            #expect(TimeZone(identifier: zone) != nil, "\(zone)")
        }
    }
}
