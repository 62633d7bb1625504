import Foundation
import HeraldJournal
import Synchronization

/// `herald worker`: a long-running process that starts scheduled campaigns when they
/// fall due and resumes interrupted ones, each in its own task, until asked to stop;
/// then every run stops cleanly (no new claims, in-flight sends settled).
public struct Worker: Sendable {
    public let journalPath: String
    public let stop: StopSignal
    public var poll: Duration = .seconds(1)
    /// Short human lines about what the worker does.
    public var onEvent: (@Sendable (String) -> Void)?

    public init(journalPath: String, stop: StopSignal) {
        self.journalPath = journalPath
        self.stop = stop
    }

    /// Campaign ids being sent, and those whose run failed (not retried until restart).
    private final class Ledger: Sendable {
        let active = Mutex<Set<String>>([])
        let failed = Mutex<Set<String>>([])
    }

    public func run() async throws {
        let ledger = Ledger()
        var nextPurge = ContinuousClock.now
        // One connection for polling, kept between polls (a PostgreSQL journal's would
        // otherwise be made, and its schema checked, every second).
        var poller: (any CampaignJournal)?
        await withTaskGroup(of: Void.self) { group in
            while stop.requested == nil {
                do {
                    for record in try dueCampaigns(using: &poller) {
                        let id = record.name
                        let fresh = ledger.active.withLock { active in
                            ledger.failed.withLock { !$0.contains(id) } && active.insert(id).inserted
                        }
                        guard fresh else { continue }
                        onEvent?("starting \(id)")
                        group.addTask { await send(record, ledger: ledger) }
                    }
                } catch {
                    onEvent?("cannot read the journal: \(error)")
                }
                // Retention is looked at once a minute: it reads every finished campaign's file.
                if ContinuousClock.now >= nextPurge {
                    nextPurge = .now + .seconds(60)
                    do {
                        for name in try purgeExpired() { onEvent?("\(name): retention_days passed; numbers and bodies purged") }
                    } catch {
                        onEvent?("cannot purge: \(error)")
                    }
                }
                try? await Task.sleep(for: poll)
            }
            onEvent?("stopping: letting running campaigns settle")
        }
    }

    private func send(_ record: CampaignRecord, ledger: Ledger) async {
        defer { ledger.active.withLock { _ = $0.remove(record.name) } }
        do {
            var options = RunOptions()
            options.unpause = false
            options.byWorker = true
            options.simulate = record.mode == .simulation
            let plan = try CampaignPlan.load(campaignPath: record.campaignPath)
            let summary = try await CampaignRunner(plan: plan, journalPath: journalPath, options: options, stop: stop).run()
            onEvent?("\(summary.campaign): \(summary.state.rawValue), \(summary.sentThisRun) sent in this run")
        } catch {
            ledger.failed.withLock { _ = $0.insert(record.name) }
            onEvent?("\(record.name): not sent: \(error)")
        }
    }

    /// Finished campaigns whose `retention_days` have passed since they ended lose their
    /// numbers and bodies (overwritten in place, WAL emptied; no VACUUM, which would wait
    /// on the campaigns being sent: `herald purge` does that). Returns their names.
    public func purgeExpired(now: Int64? = nil) throws -> [String] {
        guard JournalOpener.exists(journalPath) else { return [] }
        let journal = try JournalOpener.retention(journalPath)
        let now = now ?? journal.currentTime()
        var purged: [String] = []
        for record in try journal.campaigns()
        where record.purgedAt == nil && (record.state == .completed || record.state == .cancelled) {
            guard let days = (try? CampaignSpec.load(path: record.campaignPath))?.retentionDays,
                  record.updatedAt + Int64(days) * 86_400_000 <= now
            else { continue }
            if try journal.purge(cid: record.cid, vacuum: false) != nil { purged.append(record.name) }
        }
        return purged
    }

    /// Scheduled campaigns whose time has come, and campaigns interrupted mid-run (a
    /// crashed sender's lease, or a worker stopped by a signal), not paused or cancelled.
    /// A foreground run someone stopped with Ctrl-C is theirs to resume.
    func dueCampaigns(using poller: inout (any CampaignJournal)?) throws -> [CampaignRecord] {
        if poller == nil {
            guard JournalOpener.exists(journalPath) else { return [] }
            poller = try JournalOpener.open(journalPath)
        }
        guard let journal = poller else { return [] }
        let now = journal.currentTime()
        return try journal.campaigns().filter { record in
            guard record.control == nil, record.mode != .dryRun else { return false }
            switch record.state {
            case .scheduled: return (record.scheduledAt ?? 0) <= now
            // On a shared journal every worker joins a running campaign.
            case .running: return try journal.sharesCampaigns || !journal.isLeased(record)
            case .stopped:
                guard record.sender == .worker, record.stopKind == .signal else { return false }
                return try journal.sharesCampaigns || !journal.isLeased(record)
            default: return false
            }
        }
    }
}
