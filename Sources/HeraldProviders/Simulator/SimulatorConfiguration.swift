/// How the built-in simulated provider behaves.
public struct SimulatorConfiguration: Sendable, Equatable {
    /// Latency of each send in milliseconds, drawn uniformly from this range.
    public var latencyMilliseconds: ClosedRange<Double> = 0...0
    /// Share of sends answered with a transient failure (0...1).
    public var failureRate: Double = 0
    /// Share of sends answered with a permanent failure (0...1).
    public var permanentFailureRate: Double = 0
    /// Share of requests that never reach the simulator, as over a refused connection: answered
    /// at once as unreached, nothing delivered or remembered (0...1).
    public var unreachableRate: Double = 0
    /// Share of sends delivered whose answer is then lost (a connection closed after
    /// the request arrived): herald cannot know they were delivered (0...1).
    public var lostAnswerRate: Double = 0
    /// Messages per second accepted before answering "throttled"; nil for no throttle.
    public var throttleMessagesPerSecond: Double?
    /// Seed of the random draws, so a run can be repeated.
    public var seed: UInt64 = 1
    /// After this many deliveries, answer as a provider whose monthly spend limit is
    /// reached (to rehearse that stop); nil for never.
    public var spendLimitAfter: Int?
    /// A JSON Lines file every delivered message is appended to.
    public var outboxPath: String?
    /// Delivery receipts to produce for accepted messages (`provider.receipts`).
    public var receipts: SimulatedReceiptRates?
    /// The sender its outbox records (`from:`, or a pool identity per message); nil: none.
    public var from: String?
    /// `rcs_direct: true`: an RCS agent that never falls back to SMS itself, as an AWS direct
    /// send: an undelivered RCS message gets an `RCS_FAILED` receipt (and a delivered one
    /// `RCS_DELIVERED`), so a campaign's `sms_fallback:` can be rehearsed.
    public var rcsDirect = false

    public init() {}
}
