import HeraldCore
import HeraldProviders
import HeraldJournal

/// Turns a provider's answer into what the journal records: transient failures
/// retry with capped exponential backoff and full jitter until `maxAttempts`
/// answers, throttling retries later without spending an attempt.
struct RetryPolicy: Sendable {
    var maxAttempts: Int
    /// First backoff step and cap, in milliseconds.
    var baseDelay: Int64 = 200
    var maxDelay: Int64 = 20_000
    var throttleDelay: Int64 = 1_000
    /// The provider drops a second request with the same idempotency key, so a
    /// request left without an answer is sent again (until `maxAttempts`, then the
    /// row stays in doubt) instead of waiting in doubt for a resume.
    var resendsUnanswered = false

    func settlement(for outcome: SendOutcome, row: Int, attempts: Int, now: Int64,
                    random: inout some RandomNumberGenerator) -> Settlement {
        switch outcome {
        case .accepted(let reference):
            return Settlement(row: row, state: .sent, providerRef: reference)
        case .permanent(let reason):
            return Settlement(row: row, state: .failed, reason: .rejected, detail: reason)
        case .optedOut(let reason):
            return Settlement(row: row, state: .failed, reason: .optedOut, detail: reason)
        case .overMaxPrice(let reason):
            return Settlement(row: row, state: .skipped, reason: .maxPrice, detail: reason)
        case .transient(let reason):
            return failedThisTime(.transient, reason, row: row, attempts: attempts, now: now, random: &random)
        case .unreached(let reason):
            return failedThisTime(.unreached, reason, row: row, attempts: attempts, now: now, random: &random)
        case .throttled(let retryAfter):
            let delay = retryAfter.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? throttleDelay
            return Settlement(row: row, state: .retry, reason: .throttled, notBefore: now + delay, countsAttempt: false)
        case .spendLimit(let reason):
            return Settlement(row: row, state: .pending, reason: .spendLimit, detail: reason, countsAttempt: false)
        case .indeterminate(let reason):
            let attempt = attempts + 1
            guard resendsUnanswered, attempt < maxAttempts else {
                return Settlement(row: row, state: .inDoubt, reason: .lostAnswer, detail: reason)
            }
            return Settlement(row: row, state: .retry, reason: .lostAnswer,
                              detail: "\(reason); sent again with the same idempotency key",
                              notBefore: now + backoff(attempt: attempt, random: &random))
        case .campaignRefused(let reason):
            return Settlement(row: row, state: .pending, reason: .campaignRefused, detail: reason, countsAttempt: false)
        }
    }

    /// A failure worth retrying: due again after a backoff, or failed once out of attempts.
    private func failedThisTime(_ why: Reason, _ reason: String, row: Int, attempts: Int, now: Int64,
                                random: inout some RandomNumberGenerator) -> Settlement {
        let attempt = attempts + 1
        guard attempt < maxAttempts else {
            return Settlement(row: row, state: .failed, reason: why, detail: "\(reason) (after \(attempt) attempts)")
        }
        return Settlement(row: row, state: .retry, reason: why, detail: reason, notBefore: now + backoff(attempt: attempt, random: &random))
    }

    /// Full jitter: uniform from 0 to `baseDelay` doubled per attempt, capped at `maxDelay` (ms).
    private func backoff(attempt: Int, random: inout some RandomNumberGenerator) -> Int64 {
        Int64.random(in: 0...min(maxDelay, baseDelay << min(attempt - 1, 20)), using: &random)
    }
}
