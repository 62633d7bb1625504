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
    }

    @Test func theStopReasonIsKeptOnlyWhileOtherSendersAreAtIt() {
        #expect(OpenRule.keepsStopReason(state: .running, shared: true))
        #expect(!OpenRule.keepsStopReason(state: .budgetExhausted, shared: true))
        #expect(!OpenRule.keepsStopReason(state: .running, shared: false), "on SQLite a running campaign's holder died")
    }
}
