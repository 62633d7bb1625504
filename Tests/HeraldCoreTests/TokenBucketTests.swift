import Testing
@testable import HeraldCore

/// A clock that only moves when the test says so.
struct TestClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    var now = Instant(offset: .zero)
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}

@Suite struct TokenBucketTests {
    let zero = TestClock.Instant(offset: .zero)

    func at(_ milliseconds: Int) -> TestClock.Instant { TestClock.Instant(offset: .milliseconds(milliseconds)) }

    @Test func burstGoesAtOnceThenTheRate() {
        var bucket = TokenBucket<TestClock>(rate: 10, burst: 3, now: zero)
        let starts = (0..<6).map { _ in bucket.reserve(1, at: zero) }
        #expect(starts == [at(0), at(0), at(0), at(100), at(200), at(300)])
    }

    @Test func partsCountAsUnits() {
        var bucket = TokenBucket<TestClock>(rate: 10, burst: 0, now: zero)
        #expect(bucket.reserve(3, at: zero) == at(300), "a 3-part SMS takes 3 tokens")
        #expect(bucket.reserve(1, at: zero) == at(400))
    }

    @Test func idleTimeRefillsOnlyUpToTheBurst() {
        var bucket = TokenBucket<TestClock>(rate: 10, burst: 2, now: zero)
        _ = bucket.reserve(2, at: zero)
        // Ten quiet seconds bank no more than the burst.
        let starts = (0..<4).map { _ in bucket.reserve(1, at: at(10_000)) }
        #expect(starts == [at(10_000), at(10_000), at(10_100), at(10_200)])
    }

    @Test func noOneSecondWindowSeesMoreThanRatePlusBurst() {
        var bucket = TokenBucket<TestClock>(rate: 50, burst: 5, now: zero)
        var starts: [Int] = []
        var now = 0
        // Requests arrive in uneven clumps for 20 seconds.
        for step in 0..<2000 {
            now += step % 7 == 0 ? 37 : 3
            let start = bucket.reserve(1, at: at(now))
            starts.append(Int(start.offset.components.seconds * 1000 + start.offset.components.attoseconds / 1_000_000_000_000_000))
        }
        var worst = 0
        var low = 0
        for high in starts.indices {
            while starts[high] - starts[low] >= 1000 { low += 1 }
            worst = max(worst, high - low + 1)
        }
        #expect(worst <= 55)
        let seconds = Double(starts.last! - starts.first!) / 1000
        #expect(abs(Double(starts.count - 5) / seconds - 50) / 50 < 0.01, "mean rate within 1%")
    }

    @Test func throttlingCutsOnceThenRecoversGradually() {
        var bucket = TokenBucket<TestClock>(rate: 100, burst: 0, now: zero)
        bucket.throttled(at: zero)
        #expect(abs(bucket.rate - 85) < 0.001, "cut to 85%")
        // 100 ms later: 0.5 recovered (5% of 100 a second); same congestion, no second cut.
        bucket.throttled(at: at(100))
        #expect(abs(bucket.rate - 85.5) < 0.001)
        bucket.throttled(at: at(600))
        #expect(abs(bucket.rate - 74.8) < 0.001, "(85.5 + 2.5) × 0.85")
        _ = bucket.reserve(0, at: at(1_600))
        #expect(abs(bucket.rate - 79.8) < 0.001, "5 more after a second")
        _ = bucket.reserve(0, at: at(100_000))
        #expect(bucket.rate == 100, "never above the configured rate")
    }

    @Test func rateNeverFallsBelowTheFloor() {
        var bucket = TokenBucket<TestClock>(rate: 100, burst: 0, now: zero)
        for step in 0..<40 { bucket.throttled(at: at(step * 600)) }
        #expect(bucket.rate >= 5 - 0.0001)
    }

    @Test func retryAfterPausesEverySend() {
        var bucket = TokenBucket<TestClock>(rate: 100, burst: 10, now: zero)
        bucket.throttled(at: zero, retryAfter: .seconds(2))
        #expect(bucket.reserve(1, at: at(10)) >= at(2_000))
    }

    /// The slots after a pause are spaced at the rate; before, every send reserved during the
    /// pause fell on its last instant at once (issue 21, finding 11).
    @Test func theSlotsAfterAPauseKeepTheRate() {
        var bucket = TokenBucket<TestClock>(rate: 100, burst: 10, now: zero)
        bucket.throttled(at: zero, retryAfter: .seconds(2))
        let starts = (0..<50).map { _ in bucket.reserve(1, at: at(10)) }
        #expect(starts.allSatisfy { $0 >= at(2_000) })
        let paced = bucket.rate
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(abs(earlier.duration(to: later).seconds - 1 / paced) < 1e-9)
        }
    }
}
