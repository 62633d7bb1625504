/// The sends of the last second, as a log: the in-memory limiter's hard stop. Whatever a
/// bucket's slots say (a stall leaves a crowd of late ones), a send waits until the last
/// second's sends leave room for it under `limit`. Generic over `Clock` for tests.
public struct SendLog<C: Clock>: Sendable where C.Duration == Duration {
    public let limit: Double
    private var times: [C.Instant] = []
    private var units: [Int] = []
    private var head = 0
    private var total = 0

    public init(limit: Double) {
        self.limit = limit
    }

    /// The first instant, `now` or later, at which `count` units fit in the window. A send
    /// bigger than the limit (a long SMS under a tiny rate) goes once the window is empty.
    public mutating func earliest(_ count: Int, at now: C.Instant) -> C.Instant {
        forget(before: now)
        guard Double(total + count) > limit, head < times.count else { return now }
        var held = total
        for index in head..<times.count {
            held -= units[index]
            if Double(held + count) <= limit { return times[index].advanced(by: .seconds(1)) }
        }
        return times[times.count - 1].advanced(by: .seconds(1))
    }

    /// Records `count` units leaving at `now`.
    public mutating func record(_ count: Int, at now: C.Instant) {
        forget(before: now)
        times.append(now)
        units.append(count)
        total += count
    }

    private mutating func forget(before now: C.Instant) {
        let horizon = now.advanced(by: .seconds(-1))
        while head < times.count, times[head] <= horizon {
            total -= units[head]
            head += 1
        }
        if head > 4096, head * 2 > times.count {
            times.removeFirst(head)
            units.removeFirst(head)
            head = 0
        }
    }
}
