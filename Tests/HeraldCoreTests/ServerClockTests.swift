import Testing
@testable import HeraldCore

/// A database's clock placed on this process's: slots reserved by a statement stay where the
/// database put them, whatever happened to this process while the answer was on its way.
@Suite struct ServerClockTests {
    func at(_ milliseconds: Double) -> TestClock.Instant { TestClock.Instant(offset: .microseconds(Int64(milliseconds * 1000))) }
    func milliseconds(_ instant: TestClock.Instant) -> Double { instant.offset.seconds * 1000 }
    func close(_ instant: TestClock.Instant, _ expected: Double) -> Bool { abs(milliseconds(instant) - expected) < 0.001 }

    /// The server's clock reads 1,000 s more than this process's.
    let skew = 1_000.0

    @Test func aRoundTripPlacesTheServerClockAtItsMiddle() {
        var clock = ServerClock<TestClock>(now: at(0))
        #expect(close(clock.instant(skew + 5, now: at(3)), 3), "no reading yet: now")
        clock.observe(server: skew + 0.0105, sent: at(10), answered: at(11))
        #expect(abs(milliseconds(clock.instant(skew + 0.100, now: at(11))) - 100) < 0.001)
        #expect(abs(milliseconds(clock.instant(skew + 0.005, now: at(11))) - 5) < 0.001, "a slot in the past stays there")
    }

    @Test func aFreezeWhileTheAnswerWasOnItsWayMovesNothing() {
        var clock = ServerClock<TestClock>(now: at(0))
        clock.observe(server: skew + 0.0105, sent: at(10), answered: at(11))
        clock.observe(server: skew + 0.2005, sent: at(200), answered: at(201))
        // The statement ran at 300 ms; the process was stopped for 700 ms before reading the answer.
        clock.observe(server: skew + 0.3005, sent: at(300), answered: at(1_001))
        let first = milliseconds(clock.instant(skew + 0.3005, now: at(1_001)))
        #expect(abs(first - 300.5) < 0.01, "the slots stay at 300 ms (then forfeited), not 1,000 ms: \(first)")
        // Measured from the answer, the same slot would have landed 700 ms later, on others' slots.
        #expect(!Pacing.onTime(at(first).duration(to: at(1_001))))
    }

    @Test func theServerClockSteppingIsFollowedByTheNextShortRoundTrips() {
        var clock = ServerClock<TestClock>(now: at(0))
        clock.observe(server: skew + 0.0105, sent: at(10), answered: at(11))
        // Seconds later the server's clock has moved 2 ms ahead (drift, a slew): a fresh reading
        // with a similar round trip pins it better than an old one.
        clock.observe(server: skew + 10.0125, sent: at(10_010), answered: at(10_011))
        #expect(abs(milliseconds(clock.instant(skew + 10.100, now: at(10_011))) - 10_098) < 0.01)
        // Only the last few readings count: a long-gone short round trip is forgotten.
        for index in 0..<ServerClock<TestClock>.remembered {
            let sent = 20_000.0 + Double(index) * 100
            clock.observe(server: skew + 0.003 + (sent + 2.5) / 1000, sent: at(sent), answered: at(sent + 5))
        }
        #expect(abs(milliseconds(clock.instant(skew + 30.000, now: at(21_600))) - 29_997) < 0.01)
    }

    @Test func junkReadingsAreIgnoredAndFarInstantsNeverTrap() {
        var clock = ServerClock<TestClock>(now: at(0))
        clock.observe(server: .nan, sent: at(0), answered: at(1))
        clock.observe(server: skew, sent: at(5), answered: at(4))
        #expect(close(clock.instant(skew, now: at(7)), 7), "nothing usable read: now")
        clock.observe(server: skew + 0.0105, sent: at(10), answered: at(11))
        #expect(close(clock.instant(.infinity, now: at(20)), 20))
        #expect(close(clock.instant(1e300, now: at(20)), 20 + 86_400_000), "a day ahead at most")
        #expect(close(clock.instant(-1e300, now: at(20)), 20 - 86_400_000))
    }

    @Test func slotsFollowThePacedRateAndTheBurstFallsAtTheServersNow() {
        let pacing = Pacing(rate: 100, burst: 5)
        // The bucket was 30 ms behind (the burst): the first slots fall at the server's now.
        let slots = pacing.slots(from: 9.970, serverNow: 10, units: [1, 1, 3, 1, 1])
        let step = 1 / pacing.pacedRate
        let expected = [10, 10, 10, 9.970 + 5 * step, 9.970 + 6 * step]
        #expect(zip(slots, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(slots)")
    }
}
