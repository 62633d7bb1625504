import HeraldJournal

/// States as SQLite statements spell them: codes from the enums, never literals.
extension MessageState {
    /// The code as SQL text, for statements built from the enum.
    var sql: String { String(rawValue) }

    /// `message INDEXED BY` the partial index that holds only rows in this state, for
    /// the states that have one (they hold few rows); the planner would otherwise walk
    /// the campaign's rows in key order.
    var table: String {
        switch self {
        case .sending: "message INDEXED BY message_sending"
        case .inDoubt: "message INDEXED BY message_in_doubt"
        case .failed: "message INDEXED BY message_failed"
        case .retry: "message INDEXED BY message_retry"
        case .pending, .sent, .skipped: "message"
        }
    }

    /// `table` with an alias, which SQLite wants before `INDEXED BY`.
    func table(as alias: String) -> String {
        table.replacingOccurrences(of: "message INDEXED BY", with: "message AS \(alias) INDEXED BY", options: .anchored)
            + (table == "message" ? " AS \(alias)" : "")
    }
}

extension CampaignState {
    /// The state as an SQL string literal, for statements built from the enum.
    var sql: String { "'\(rawValue)'" }
}
