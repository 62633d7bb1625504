import Foundation
import HeraldCore
import HeraldProviders
import HeraldJournal

/// Sends one claimed batch with at most `maxInFlight` requests outstanding and
/// returns a settlement per message, in completion order.
struct Dispatcher: Sendable {
    let campaign: String
    /// The campaign's providers; each message goes through its route's.
    let providers: ProviderSet
    let maxInFlight: Int
    let dryRun: Bool
    let policy: RetryPolicy
    /// Paces sends when the campaign sets a rate.
    let limiter: RateLimiter?
    /// SMS counts parts against the rate; other channels count messages.
    let channel: Channel
    /// The sender's lease term, checked just before every request.
    var lease: LeaseClock?
    /// With several providers: their health, and where a row that may move goes.
    var failover: Failover?
    /// The routes' sender pools, and each identity's rate where this process paces it.
    var senders = SenderLimiters(SenderScopes(""), inProcess: false)
    /// Routes that send an RCS campaign's rows as SMS (`sms_fallback:`), from their `fallback_sms`.
    var smsRoutes: Set<Int> = []

    /// Once any of `halts` is set, or the lease term is over, no further message of the
    /// batch is sent: those left go back to `pending` (their reservation released, or, if
    /// the rows were taken over meanwhile, their doubt lifted: `Fencing`), in-flight ones
    /// finish.
    func send(_ claimed: [ClaimedMessage], haltOn halts: [StopSignal] = []) async -> [Settlement] {
        let batch = senders.paced(claimed, countsParts: channel == .sms)
        return await withTaskGroup(of: Settlement.self, returning: [Settlement].self) { group in
            var results: [Settlement] = []
            results.reserveCapacity(batch.count)
            var next = 0
            func halted() -> Bool { halts.contains { $0.requested != nil } || lease.map { !$0.allowsRequest } ?? false }
            func launch() {
                let message = batch[next]
                next += 1
                group.addTask { await deliver(message) }
            }
            while next < batch.count, next < maxInFlight, !halted() { launch() }
            while let settlement = await group.next() {
                results.append(settlement)
                if next < batch.count, !halted() { launch() }
            }
            for message in batch[next...] {
                results.append(Settlement(row: message.row, state: .pending, countsAttempt: false).settling(message))
            }
            return results
        }
    }

    private func deliver(_ claimed: ClaimedMessage) async -> Settlement {
        guard let destination = PhoneNumber(storedDigits: claimed.destination) else {
            return Settlement(row: claimed.row, state: .failed, reason: .badNumber, detail: "stored number is not valid E.164")
                .settling(claimed)
        }
        // A row that fell back from RCS goes as SMS, its template's fallback_sms.
        let channel = smsRoutes.contains(claimed.route) ? Channel.sms : self.channel
        guard let body = channel == self.channel ? claimed.body : Self.fallbackText(claimed.body) else {
            return Settlement(row: claimed.row, state: .failed, reason: .invalidContent,
                              detail: "the stored RCS content has no readable fallback_sms").settling(claimed)
        }
        // Parts as imported and charged; the content decoded once, in the message.
        var message = OutboundMessage(campaign: campaign, row: claimed.row, destination: destination, channel: channel,
                                      body: body, parts: claimed.parts, dryRun: dryRun)
        let identity = senders.identity(of: claimed)
        message.sender = identity?.id
        guard message.content != nil else {
            return Settlement(row: claimed.row, state: .failed, reason: .invalidContent,
                              detail: "the stored \(channel.rawValue) content is not readable JSON").settling(claimed)
        }
        // Its provider is demoted and nothing of it may have reached any provider: it goes
        // to another now, unsent, rather than waiting out the cool-down.
        if let failover, case let now = Self.now(), failover.isDemoted(route: claimed.route, at: now),
            let move = failover.move(claimed, after: nil, at: now)
        {
            return rerouted(claimed, move, failover)
        }
        if let due = claimed.due {
            // Its slot in the campaign's rate, handed out by a shared journal. Missed (a stall,
            // a slow batch ahead of it): the slot is forfeited and the row goes back unsent, to
            // be claimed with a new one; sending it now would crowd the provider's second.
            try? await Task.sleep(until: due, clock: .continuous)
            guard Pacing.onTime(due.duration(to: .now)) else {
                return Settlement(row: claimed.row, state: .pending, countsAttempt: false).settling(claimed)
            }
        } else {
            let units = channel == .sms ? message.parts : 1
            await limiter?.acquire(units)
            if let identity { await senders.limiter(identity)?.acquire(units) }
        }
        // The last check before the request leaves: a sender whose term is over (frozen, or
        // cut off from the journal) no longer holds the row for sure, and sends nothing.
        if let lease, !lease.allowsRequest {
            return Settlement(row: claimed.row, state: .pending, countsAttempt: false).settling(claimed)
        }
        // A row recorded for a provider the campaign file no longer lists is never sent through
        // another: the run stops (exit 9) with the row unsent.
        guard let provider = providers.provider(route: claimed.route) else {
            return Settlement(row: claimed.row, state: .pending, reason: .campaignRefused,
                              detail: "line \(claimed.row) is routed to provider #\(claimed.route + 1) of providers:, which the campaign file "
                                  + "no longer lists (\(providers.providers.count) now); put it back to send the rest",
                              countsAttempt: false).settling(claimed)
        }
        let outcome = await provider.send(message)
        if case .throttled(let retryAfter) = outcome {
            await limiter?.throttled(retryAfter: retryAfter)
            if let identity { await senders.limiter(identity)?.throttled(retryAfter: retryAfter) }
        }
        var random = SystemRandomNumberGenerator()
        let now = Self.now()
        if let failover {
            let signal = Failover.signal(outcome)
            failover.record(signal, route: claimed.route, at: now)
            if let move = failover.move(claimed, after: signal, at: now) { return rerouted(claimed, move, failover) }
            if case .accepted = outcome, !dryRun { failover.taken(row: claimed.row, route: claimed.route, at: now) }
        }
        return policy.settlement(for: outcome, row: claimed.row, attempts: claimed.attempts, now: now, random: &random)
            .settling(claimed)
    }

    /// A row moved to another provider: due again now, through it, with its parts and price.
    private func rerouted(_ claimed: ClaimedMessage, _ move: RouteMove, _ failover: Failover) -> Settlement {
        var settlement = Settlement(row: claimed.row, state: .retry, reason: .rerouted,
                                    detail: "moved from \(failover.name(move.from).quoted) to \(failover.name(move.to).quoted): \(move.reason)",
                                    notBefore: Self.now(), countsAttempt: false).settling(claimed)
        settlement.move = move
        return settlement
    }

    /// The SMS an RCS row falls back to: its rendered content's `fallback_sms`.
    static func fallbackText(_ stored: String) -> String? {
        Array(stored.utf8).withUnsafeBufferPointer(fallbackText)
    }

    /// The same, from the stored bytes (only the one member is read).
    static func fallbackText(_ stored: UnsafeBufferPointer<UInt8>) -> String? {
        JSONTree.parse(stored)?["fallback_sms"]?.string
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
