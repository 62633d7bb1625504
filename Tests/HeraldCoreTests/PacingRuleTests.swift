import Testing
@testable import HeraldCore

/// The pacing rule without a clock that moves by itself: the bound's arithmetic, and the
/// in-memory limiter's two buckets under stalls (issue 21, finding 11).
@Suite struct PacingRuleTests {
    func at(_ milliseconds: Int) -> TestClock.Instant { TestClock.Instant(offset: .milliseconds(milliseconds)) }

    @Test func lateSendsAndJitterStayInsideTheMargin() {
        // margin × rate × (1 + lateness + jitter) ≤ rate: the provider's second holds rate + burst at most.
        let stretch = Pacing.margin * (1 + Pacing.lateness.seconds + Pacing.jitter.seconds)
        #expect(stretch <= 1)
        #expect(Pacing.onTime(.milliseconds(6)) && !Pacing.onTime(.milliseconds(7)))
        #expect(Pacing(rate: 200, burst: 1).pacedRate == 198)
        #expect(Pacing(rate: 200, burst: -3).burst == 0)
    }

    @Test func takingNeverGoesIntoDebt() {
        var bucket = TokenBucket<TestClock>(rate: 10, burst: 2, now: at(0))
        #expect(bucket.take(1, at: at(0)) == nil && bucket.take(1, at: at(0)) == nil)
        #expect(bucket.take(1, at: at(0)) == at(100), "empty: the next unit in a tenth of a second")
        #expect(bucket.take(1, at: at(50)) == at(100), "asking again takes nothing")
        #expect(bucket.take(1, at: at(100)) == nil)
        // A long stall banks no more than the burst.
        #expect(bucket.take(1, at: at(60_000)) == nil && bucket.take(1, at: at(60_000)) == nil)
        #expect(bucket.take(1, at: at(60_000)) == at(60_100))
        // No burst, or a send bigger than it: one send's units can still be banked.
        var strict = TokenBucket<TestClock>(rate: 10, burst: 0, now: at(0))
        #expect(strict.take(1, at: at(0)) == at(100) && strict.take(1, at: at(100)) == nil)
        #expect(strict.take(3, at: at(100)) == at(400) && strict.take(3, at: at(400)) == nil)
    }

    /// The limiter's rule played on a test clock: 16 sends in flight, each reserving a slot
    /// when the one 16 before it left, with random freezes (a send whose slot falls in one
    /// leaves when it ends, with every other due one), then asking the bucket of what really
    /// left. No window holds more than the paced rate plus the burst, and the sends still keep
    /// the rate between freezes.
    @Test func noWindowPassesTheRatePlusBurstWhateverTheStalls() {
        var random = SplitMix64(seed: 21)
        for rate in [50.0, 200, 5000] {
            let pacing = Pacing(rate: rate, burst: (rate / 40).rounded())
            var schedule = TokenBucket<TestClock>(rate: pacing.pacedRate, burst: pacing.burst, now: at(0))
            var left = schedule
            var stalls: [(start: Int, end: Int)] = []
            var clock = 0
            while clock < 60_000 {
                clock += 300 + Int(random.next() % 2000)
                let length = 5 + Int(random.next() % 800)
                stalls.append((clock, clock + length))
                clock += length
            }
            func thawed(_ instant: TestClock.Instant) -> TestClock.Instant {
                let milliseconds = Int(instant.offset.components.seconds * 1000)
                    + Int(instant.offset.components.attoseconds / 1_000_000_000_000_000)
                guard let stall = stalls.first(where: { $0.start <= milliseconds && milliseconds < $0.end }) else { return instant }
                return at(stall.end)
            }
            var sent: [TestClock.Instant] = []
            for index in 0..<Int(rate * 8) {
                let now = max(index >= 16 ? sent[index - 16] : at(0), sent.last ?? at(0))
                let slot = schedule.reserve(1, at: now)
                var leave = max(thawed(max(slot, now)), sent.last ?? at(0))
                while let later = left.take(1, at: leave) { leave = thawed(later) }
                sent.append(leave)
            }
            var worst = 0
            var low = 0
            for high in sent.indices {
                while sent[low].duration(to: sent[high]) >= .seconds(1) { low += 1 }
                worst = max(worst, high - low + 1)
            }
            #expect(Double(worst) <= pacing.pacedRate + pacing.burst + 1, "rate \(rate): a window held \(worst)")
            #expect(Double(worst) >= pacing.pacedRate * 0.95, "rate \(rate): the busiest window held only \(worst)")
        }
    }
}
