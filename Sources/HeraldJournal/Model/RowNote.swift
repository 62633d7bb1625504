import HeraldCore

/// A row in doubt or failed, for `status` to list (no phone number, only the line).
public struct RowNote: Sendable {
    public let row: Int
    public let state: MessageState
    public let reason: Reason?
    public let detail: String?

    public init(row: Int, state: MessageState, reason: Reason?, detail: String?) {
        self.row = row
        self.state = state
        self.reason = reason
        self.detail = detail
    }
}

/// What an estimate needs from the journal to leave out rows already dealt with,
/// without reading the rows themselves.
public struct JournalProgress: Sendable {
    /// Every row at or before this CSV line has been claimed, skipped or is waiting:
    /// none is still pending. Rows after it are as the import left them.
    public let handledThrough: Int
    /// Lines at or before `handledThrough` that are waiting to be sent again, in order.
    public let waitingLines: [Int]
    public let counts: CampaignCounts

    package init(handledThrough: Int, waitingLines: [Int], counts: CampaignCounts) {
        self.handledThrough = handledThrough
        self.waitingLines = waitingLines
        self.counts = counts
    }
}
