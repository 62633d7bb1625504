import HeraldCore
import HeraldJournal
import Testing

/// Opening a campaign again, as both stores decide it.
@Suite struct OpenRuleTests {
    @Test func refusals() {
        #expect(OpenRule.refusal(purged: false, state: .stopped, control: nil, unpause: false) == nil)
        #expect(OpenRule.refusal(purged: true, state: .completed, control: nil, unpause: true) == "purged")
        #expect(OpenRule.refusal(purged: false, state: .cancelled, control: nil, unpause: true) == "cancel",
                "cancelled is final, whatever the control column says")
        #expect(OpenRule.refusal(purged: false, state: .running, control: .cancel, unpause: true) == "cancel")
        #expect(OpenRule.refusal(purged: false, state: .paused, control: .pause, unpause: false) == "pause", "a worker never unpauses")
        #expect(OpenRule.refusal(purged: false, state: .paused, control: .pause, unpause: true) == nil, "run or resume does")
        // Journey seed 7930: `herald cancel` while the run claimed its last row; the run never
        // saw it and completed every row. A resume then said "was cancelled" (exit 8).
        #expect(OpenRule.refusal(purged: false, state: .completed, control: .cancel, unpause: true) == nil,
                "a completed campaign has nothing left to cancel")
        #expect(OpenRule.refusal(purged: false, state: .completed, control: .pause, unpause: false) == nil)
    }

    @Test func aCancelTheSenderNeverSawWinsAtReleaseOverAllButCompleted() {
        #expect(ReleaseRule.state(leaving: .budgetExhausted, control: .cancel) == .cancelled, "seed 60164")
        #expect(ReleaseRule.state(leaving: .stopped, control: .cancel) == .cancelled)
        #expect(ReleaseRule.state(leaving: .completed, control: .cancel) == .completed, "seed 7930")
        #expect(ReleaseRule.state(leaving: .budgetExhausted, control: .pause) == .budgetExhausted)
        #expect(ReleaseRule.state(leaving: .stopped, control: nil) == .stopped)
    }

    @Test func theStopReasonIsKeptOnlyWhileOtherSendersAreAtIt() {
        #expect(OpenRule.keepsStopReason(state: .running, shared: true))
        #expect(!OpenRule.keepsStopReason(state: .budgetExhausted, shared: true))
        #expect(!OpenRule.keepsStopReason(state: .running, shared: false), "on SQLite a running campaign's holder died")
    }
}

/// A SQLite lease's liveness: this host asks its process table, another host's heartbeat ages.
@Suite struct LeaseLivenessTests {
    let me = LeaseOwner(token: "me", pid: 10, host: "a")
    let now: Int64 = 1_796_000_000_000

    func live(_ holder: LeaseLiveness.Holder, alive: Set<Int> = []) -> Bool {
        LeaseLiveness.isLive(holder, against: me, now: now) { alive.contains($0) }
    }

    @Test func cases() {
        let silent = now - 10 * LeaseLiveness.staleAfterMilliseconds
        #expect(live(.init(token: "x", pid: 7, host: "a", heartbeat: silent), alive: [7]), "frozen on this host: kept, however silent")
        #expect(!live(.init(token: "x", pid: 7, host: "a", heartbeat: now), alive: []), "killed on this host: gone at once")
        #expect(live(.init(token: "x", pid: 7, host: "b", heartbeat: now - LeaseLiveness.staleAfterMilliseconds + 1)))
        #expect(!live(.init(token: "x", pid: 7, host: "b", heartbeat: now - LeaseLiveness.staleAfterMilliseconds)),
                "another host: stale at the timeout")
        #expect(!live(.init(token: "me", pid: 7, host: "a", heartbeat: now), alive: [7]), "its own lease is never another's")
        #expect(!live(.init(token: nil, pid: nil, host: nil, heartbeat: nil)), "nobody holds it")
    }
}
