/// Instants of a database server's clock as instants of this process's clock, for slots a
/// shared journal hands out (`Pacing` across processes).
///
/// A slot is reserved by the server's clock when its statement runs, somewhere between the
/// moment this process sent the statement and the moment the answer came back. Placing it
/// by either end goes wrong when that wait is long: frozen after the statement ran (SIGSTOP,
/// a stalled VM, a paused GC), a process measuring from the answer moves every slot later by
/// the freeze, onto slots other senders took since. So each answer also carries the server's
/// clock, and the offset between the two clocks comes from the round trip that pins it best:
/// half its length, plus what either clock may have drifted since (`drift`). A round trip
/// stretched by a freeze pins nothing and never moves the offset; the slots it reserved then
/// fall in the past, and the dispatcher forfeits them (`Pacing.onTime`).
public struct ServerClock<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    /// How fast two clocks may move apart, seconds a second: the most NTP slews a clock.
    public static var drift: Double { 500e-6 }
    /// Round trips remembered.
    public static var remembered: Int { 16 }

    private struct Sample: Sendable {
        /// The server's clock minus this process's, seconds.
        let offset: Double
        /// How far off `offset` may be when taken: half the round trip.
        let error: Double
        /// When it was taken, seconds since `origin`.
        let taken: Double
    }

    private let origin: C.Instant
    private var samples: [Sample] = []
    private var next = 0

    public init(now: C.Instant) { origin = now }

    /// Records one reading of the server's clock, `server` seconds, by a statement this
    /// process sent at `sent` and had the answer of at `answered`. Readings that are not
    /// finite, or a round trip that ran backwards, are ignored.
    public mutating func observe(server: Double, sent: C.Instant, answered: C.Instant) {
        let start = seconds(sent), end = seconds(answered)
        guard server.isFinite, start.isFinite, end.isFinite, end >= start else { return }
        let sample = Sample(offset: server - (start + end) / 2, error: (end - start) / 2, taken: end)
        if samples.count < Self.remembered {
            samples.append(sample)
        } else {
            samples[next] = sample
        }
        next = (next + 1) % Self.remembered
    }

    /// The offset the best reading gives at `now`, or nil before any reading.
    func offset(at now: C.Instant) -> Double? {
        let time = seconds(now)
        return samples.min { bound($0, time) < bound($1, time) }?.offset
    }

    /// This process's instant for the server's `server` seconds, as the best reading places it
    /// at `now`; `now` itself before any reading, and never more than a day from `now` (a server
    /// clock that jumped never traps here).
    public func instant(_ server: Double, now: C.Instant) -> C.Instant {
        guard let offset = offset(at: now), server.isFinite else { return now }
        let local = server - offset - seconds(now)
        return now.advanced(by: .seconds(min(max(local, -86_400), 86_400)))
    }

    private func bound(_ sample: Sample, _ time: Double) -> Double {
        sample.error + max(0, time - sample.taken) * Self.drift
    }

    private func seconds(_ instant: C.Instant) -> Double { origin.duration(to: instant).seconds }
}

extension Pacing {
    /// The instants, by the server's clock, of the slots for sends of `units` units each,
    /// reserved from `start` while the server's clock read `serverNow`. A slot before
    /// `serverNow` is the bucket catching up to its burst and falls at `serverNow`.
    public func slots(from start: Double, serverNow: Double, units: [Int]) -> [Double] {
        var used = 0
        return units.map { unit in
            defer { used += unit }
            return max(serverNow, start + Double(used) / pacedRate)
        }
    }
}
