/// How `herald run` / `herald resume` should behave.
public struct RunOptions: Sendable {
    /// Refuse to start when any row has a problem, instead of skipping such rows.
    public var strict = false
    /// Send through the built-in simulator whatever the campaign's provider.
    public var simulate = false
    /// Stop after claiming this many messages in this run.
    public var limit: Int?
    /// Send rows left in doubt again even though the provider cannot dedupe them.
    public var resendInDoubt = false
    /// Only continue a campaign already in the journal (`herald resume`).
    public var mustExist = false

    public init() {}
}
