import HeraldJournal

extension JournalError {
    /// Any error met while using the journal, as a journal error.
    static func from(_ error: any Error, path: String) -> JournalError {
        switch error {
        case let error as JournalError: return error
        case let error as SQLiteError: return wrap(error, path: path)
        default: return JournalError(.sqlite(SQLiteError(code: -1, message: "\(error)", sql: nil)), path: path)
        }
    }

    static func wrap(_ error: SQLiteError, path: String) -> JournalError {
        if error.isNotADatabase { return JournalError(.notADatabase, path: path) }
        if error.isBusy { return JournalError(.busy, path: path) }
        return JournalError(.sqlite(error), path: path)
    }
}
