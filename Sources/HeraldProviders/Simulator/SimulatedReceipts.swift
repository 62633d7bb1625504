import Foundation
import HeraldCore
import Synchronization

/// `provider.receipts` of a simulator campaign: what becomes of accepted messages.
public struct SimulatedReceiptRates: Sendable, Equatable {
    /// Shares of accepted messages that get a final DELIVERED or UNDELIVERED event; the
    /// rest get none (they count as waiting, then unknown after the receipt timeout).
    public var delivered: Double = 0.95
    public var undelivered: Double = 0.03
    /// Share of delivered messages that are then read.
    public var read: Double = 0
    /// Time from send to the event, in milliseconds, drawn uniformly.
    public var latencyMilliseconds: ClosedRange<Double> = 200...5000

    public init() {}
}

/// Produces the simulator's delivery events at their due times and hands them to
/// `sink` in batches: the same ingestion path a provider's callbacks take. One
/// thread and a heap of small entries (16 bytes a message), whatever the volume.
public final class SimulatedReceipts: Sendable {
    struct Due: Comparable {
        let at: UInt64  // ContinuousClock nanoseconds since `start`
        let row: Int32
        let kind: UInt8  // 0 delivered, 1 undelivered, 2 read; plus `rcsBit` for an RCS agent's events
        static func < (a: Due, b: Due) -> Bool { a.at < b.at }
    }

    private struct State {
        var heap: [Due] = []
        var random: SplitMix64
        var closing = false
    }

    public let rates: SimulatedReceiptRates
    private let campaign: String
    private let sink: @Sendable ([DeliveryEvent]) -> Void
    private let state: Mutex<State>
    private let start = ContinuousClock.now
    private let wake = NSCondition()
    private let done = DispatchSemaphore(value: 0)

    public init(rates: SimulatedReceiptRates, campaign: String, seed: UInt64, sink: @escaping @Sendable ([DeliveryEvent]) -> Void) {
        self.rates = rates
        self.campaign = campaign
        self.sink = sink
        state = Mutex(State(random: SplitMix64(seed: seed ^ 0x5EED)))
        let thread = Thread { [self] in loop() }
        thread.name = "herald-sim-receipts"
        thread.start()
    }

    /// A message was accepted (or delivered with its answer lost): schedule its events.
    static let rcsBit: UInt8 = 0x10

    /// `rcs`: from an RCS agent that never falls back itself (`rcs_direct`): its events are
    /// `RCS_DELIVERED`, `RCS_FAILED` and `RCS_READ`, about the RCS channel.
    func accepted(row: Int, rcs: Bool = false) {
        let now = elapsed()
        state.withLock { state in
            let draw = state.random.unit()
            let kind: UInt8
            let flag = rcs ? Self.rcsBit : 0
            if draw < rates.delivered { kind = flag } else if draw < rates.delivered + rates.undelivered { kind = 1 | flag } else { return }
            let range = rates.latencyMilliseconds
            let latency = range.lowerBound + (range.upperBound - range.lowerBound) * state.random.unit()
            let at = now + UInt64(latency * 1_000_000)
            push(&state.heap, Due(at: at, row: Int32(truncatingIfNeeded: row), kind: kind))
            if kind == 0, state.random.unit() < rates.read {
                let later = range.lowerBound + (range.upperBound - range.lowerBound) * state.random.unit()
                push(&state.heap, Due(at: at + UInt64(later * 1_000_000), row: Int32(truncatingIfNeeded: row), kind: 2 | flag))
            }
        }
    }

    /// Emits every event still scheduled (waiting for each to fall due), then stops.
    public func drain() {
        state.withLock { $0.closing = true }
        wake.lock()
        wake.signal()
        wake.unlock()
        done.wait()
    }

    private func elapsed() -> UInt64 {
        let duration = start.duration(to: .now)
        return UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    private func loop() {
        while true {
            let now = elapsed()
            let (due, next, finished) = state.withLock { state -> ([Due], UInt64?, Bool) in
                var due: [Due] = []
                while let top = state.heap.first, top.at <= now, due.count < 4096 { due.append(pop(&state.heap)) }
                return (due, state.heap.first?.at, state.closing && state.heap.isEmpty)
            }
            if !due.isEmpty {
                sink(due.map(event))
                continue
            }
            if finished {
                done.signal()
                return
            }
            let wait = min(next.map { Double($0 - min($0, now)) / 1e9 } ?? 0.05, 0.05)
            wake.lock()
            _ = wake.wait(until: Date().addingTimeInterval(max(wait, 0.001)))
            wake.unlock()
        }
    }

    private func event(_ due: Due) -> DeliveryEvent {
        let row = Int(due.row)
        let match = DeliveryEvent.Match.row(campaign: campaign, row: row, reference: nil)
        let at = Int64(Date().timeIntervalSince1970 * 1000)
        let rcs = due.kind & Self.rcsBit != 0
        let prefix = rcs ? "RCS_" : ""
        var event: DeliveryEvent
        switch due.kind & ~Self.rcsBit {
        case 0:
            event = DeliveryEvent(source: .simulator, type: prefix + "DELIVERED", match: match, state: .delivered, at: at,
                                  raw: "{\"type\":\"\(prefix)DELIVERED\",\"row\":\(row)}")
        case 1:
            let type = rcs ? "RCS_FAILED" : "UNDELIVERED"
            event = DeliveryEvent(source: .simulator, type: type, match: match, state: .undelivered,
                                  code: "sim-unreachable", detail: rcs ? "simulated: not an RCS device" : "simulated: handset unreachable",
                                  at: at, raw: "{\"type\":\"\(type)\",\"row\":\(row)}")
        default:
            event = DeliveryEvent(source: .simulator, type: prefix + "READ", match: match, state: nil, read: true, at: at,
                                  raw: "{\"type\":\"\(prefix)READ\",\"row\":\(row)}")
        }
        if rcs { event.channel = .rcs }
        return event
    }
}

private func push(_ heap: inout [SimulatedReceipts.Due], _ item: SimulatedReceipts.Due) {
    heap.append(item)
    var child = heap.count - 1
    while child > 0 {
        let parent = (child - 1) / 2
        guard heap[child] < heap[parent] else { break }
        heap.swapAt(child, parent)
        child = parent
    }
}

private func pop(_ heap: inout [SimulatedReceipts.Due]) -> SimulatedReceipts.Due {
    let top = heap[0]
    let last = heap.removeLast()
    guard !heap.isEmpty else { return top }
    heap[0] = last
    var parent = 0
    while true {
        let left = parent * 2 + 1, right = left + 1
        var smallest = parent
        if left < heap.count, heap[left] < heap[smallest] { smallest = left }
        if right < heap.count, heap[right] < heap[smallest] { smallest = right }
        guard smallest != parent else { return top }
        heap.swapAt(parent, smallest)
        parent = smallest
    }
}
