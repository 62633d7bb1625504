/// At most `messages` messages to one number in any `days` days, counted over every
/// campaign of the journal in the same ledger scope (real sends with real sends).
public struct FrequencyCap: Sendable, Equatable {
    public var messages: Int
    public var days: Int

    public init(messages: Int, days: Int) {
        self.messages = messages
        self.days = days
    }

    /// The window in milliseconds.
    public var milliseconds: Int64 { Int64(days) * 86_400_000 }

    /// The rule: a recipient who got `messages` messages in the window (sent, or claimed
    /// and being sent, by any campaign of the journal of the same kind) gets no more.
    public static func reached(sent: Int, cap: FrequencyCap) -> Bool { sent >= cap.messages }
}
