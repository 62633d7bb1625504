import Foundation
import HeraldSettings
import HeraldJournal
import HeraldProviders
import HeraldSQLite
import Synchronization
import Testing
@testable import HeraldEngine

@Suite struct CampaignRunnerTests {
    static let header = "phone,name,code,points\n"

    @Test func runsACampaignEndToEndSkippingBadRows() async throws {
        let bad = """
            +44 7700 9001,Short,AB12,1
            +44 7700 900900,,AB12,1
            +44 7700 900901,Lower,ab12,1
            +44 7700 900902,Ragged,AB12
            +44 7700 900903,Points,AB12,many
            +44 7700 900000,Again,AB12,1
            """
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(100) + "\n" + bad + "\n")
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed)
        #expect(summary.imported == 106)
        #expect(summary.counts[.sent] == 100)
        #expect(summary.counts[.skipped] == 6)
        #expect(summary.counts.byReason == [.badNumber: 1, .missingValue: 1, .invalidValue: 2, .malformedRow: 1, .duplicate: 1])
        let outbox = try fixture.outbox()
        #expect(outbox.count == 100)
        #expect(Set(outbox.map(\.destination)).count == 100)
        #expect(outbox.contains { $0.destination == "+447700900007" && $0.body == "Hi Name7, code C007, 7 points" })
        #expect(ExitStatus(for: summary) == .success)
        // Running it again sends nothing more.
        let again = try await fixture.runner().run()
        #expect(again.sentThisRun == 0 && again.imported == 0)
        #expect(try fixture.outbox().count == 100)
    }

    @Test func transientFailuresAreRetriedAndPermanentOnesRecorded() async throws {
        let fixture = try Fixture(
            rows: Self.header + Fixture.validRows(300) + "\n",
            provider: "{kind: simulator, outbox: outbox.jsonl, failure_rate: 0.3, permanent_failure_rate: 0.05, seed: 7}",
            extra: "retry: {max_attempts: 20, initial_backoff_ms: 5, max_backoff_ms: 50}")
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed)
        #expect(summary.counts[.sent] + summary.counts[.failed] == 300)
        #expect(summary.counts[.failed] > 0, "5% permanent failures over 300 rows")
        #expect(summary.counts.byReason[.rejected] == summary.counts[.failed])
        let outbox = try fixture.outbox()
        #expect(outbox.count == summary.counts[.sent])
        #expect(Set(outbox.map(\.key)).count == outbox.count)
    }

    @Test func exhaustedAttemptsFailTheRowWithTheLastReason() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(5) + "\n",
                                  provider: "{kind: simulator, failure_rate: 1}", extra: "retry: {max_attempts: 2, initial_backoff_ms: 5}")
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.failed] == 5)
        #expect(summary.counts.byReason == [.transient: 5])
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        let rows = try journal.rows(cid: record.cid, in: .failed, limit: 10)
        #expect(rows.allSatisfy { $0.detail == "simulated transient failure (after 2 attempts)" })
    }

    @Test func throttledSendsAreRetriedNeverLost() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(150) + "\n",
                                  provider: "{kind: simulator, outbox: outbox.jsonl, throttle_mps: 400}")
        let summary = try await fixture.runner().run()
        #expect(summary.counts[.sent] == 150)
        #expect(try fixture.outbox().count == 150)
    }

    @Test func limitStopsAndResumeFinishes() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(40) + "\n")
        var options = RunOptions()
        options.limit = 15
        let first = try await fixture.runner(options).run()
        #expect(first.stop == .limit)
        #expect(first.counts[.sent] == 15)
        #expect(first.state == .stopped)
        #expect(ExitStatus(for: first) == .success)
        var resume = RunOptions()
        resume.mustExist = true
        let second = try await fixture.runner(resume).run()
        #expect(second.state == .completed && second.sentThisRun == 25)
        #expect(Set(try fixture.outbox().map(\.key)).count == 40)
    }

    @Test func stopRequestSettlesInFlightAndResumes() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(1000) + "\n",
                                  provider: "{kind: simulator, outbox: outbox.jsonl, latency_ms: 5}",
                                  extra: "rate: {max_in_flight: 4}")
        let stop = StopSignal()
        var runner = try fixture.runner(stop: stop)
        runner.onProgress = { progress in
            if progress.phase == .sending, progress.done > 20 { stop.request(.signal(2)) }
        }
        let first = try await runner.run()
        #expect(first.stop == .signal(2))
        #expect(ExitStatus(for: first) == .interrupted)
        #expect(first.counts[.sending] == 0, "nothing is left claimed after a clean stop")
        #expect(first.counts[.inDoubt] == 0)
        #expect(first.counts[.sent] < 1000)
        #expect(try fixture.outbox().count == first.counts[.sent])
        let second = try await fixture.runner().run()
        #expect(second.state == .completed)
        let outbox = try fixture.outbox()
        #expect(outbox.count == 1000 && Set(outbox.map(\.key)).count == 1000)
    }

    @Test func strictRefusesBadRowsWithoutTouchingTheJournal() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(3) + "\n+44 7700 900999,X,bad,1\n")
        var options = RunOptions()
        options.strict = true
        let error = await #expect(throws: ValidationFailed.self) { try await fixture.runner(options).run() }
        #expect(error?.report.problemCount == 1)
        #expect(error?.report.problems.first?.description.hasSuffix("recipients.csv:5: column \"code\": \"bad\" does not match pattern [A-Z0-9]{4}") == true)
        #expect(!FileManager.default.fileExists(atPath: fixture.journalPath))
    }

    @Test func changedRecipientsAfterSendingStartedAreRefused() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(10) + "\n")
        var options = RunOptions()
        options.limit = 3
        _ = try await fixture.runner(options).run()
        try (Self.header + Fixture.validRows(11) + "\n").write(toFile: fixture.csvPath, atomically: true, encoding: .utf8)
        let error = await #expect(throws: JournalError.self) { try await fixture.runner().run() }
        #expect(error?.isInputChange == true)
        #expect(ExitStatus(for: error!) == .invalidInput)
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        #expect(try journal.counts(cid: record.cid)[.sent] == 3)
    }

    @Test func importFailureLeavesNoCampaignBehind() async throws {
        let fixture = try Fixture(rows: Self.header + Fixture.validRows(10) + "\n+44 7700 900500,\"open quote,AB12,1\n")
        let error = await #expect(throws: InputError.self) { try await fixture.runner().run() }
        #expect(error?.description.contains("recipients.csv:12: a quoted field opened on this line is never closed") == true)
        let journal = try Journal(path: fixture.journalPath)
        #expect(try journal.campaigns().isEmpty)
    }

    @Test func validateListsEveryProblemWithFileAndLine() throws {
        let fixture = try Fixture(rows: Self.header + "+44 7700 900001,Ada,AB12,1\n+44 7700 900002,Bob,AB1,1\n+1 555,Cy,AB12,1\n")
        let report = try CampaignPlan.load(campaignPath: fixture.campaignPath).validate()
        #expect(report.rows == 3 && report.problemCount == 2 && report.sendable == 1)
        #expect(report.problems.map(\.line) == [3, 4])
        #expect(report.problems[1].description.contains("recipients.csv:4: column \"phone\": phone number has"))
    }
}

@Suite struct RateRunTests {
    @Test func pacedSendsAgainstAThrottleDeliverEverythingOnce() async throws {
        let fixture = try Fixture(rows: CampaignRunnerTests.header + Fixture.validRows(300) + "\n",
                                  provider: "{kind: simulator, outbox: outbox.jsonl, throttle_mps: 300}",
                                  extra: "rate: {messages_per_second: 600, burst: 6, max_in_flight: 8}")
        let summary = try await fixture.runner().run()
        #expect(summary.state == .completed && summary.counts[.sent] == 300)
        let outbox = try fixture.outbox()
        #expect(outbox.count == 300 && Set(outbox.map(\.key)).count == 300)
    }

    @Test func burstWithoutARateIsRefused() throws {
        let fixture = try Fixture(rows: CampaignRunnerTests.header + Fixture.validRows(1) + "\n", extra: "rate: {burst: 5}")
        let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
        #expect(error?.description.contains("rate.burst: burst needs messages_per_second") == true)
    }
}

/// `herald cancel` arriving as a run ends for another reason, after its send loop last read the
/// campaign's control (journey seed 60140: a run stopped by its budget; the cancel skipped the
/// 22 rows left, the campaign read `budget_exhausted`, and every resume was refused as
/// cancelled). Seed 7930 is the other side: every row had ended sent, and nothing is cancelled.
@Suite struct LateCancelTests {
    func counts(_ states: [MessageState: Int], cancelled: Int = 0) -> CampaignCounts {
        var counts = CampaignCounts()
        counts.byState = states
        if cancelled > 0 { counts.byReason[.cancelled] = cancelled }
        return counts
    }

    @Test func aCancelTheLoopNeverSawEndsTheCampaignCancelledWhenItChangedSomething() {
        #expect(CampaignRunner.cancelsLate(control: .cancel, counts: counts([.sent: 107, .skipped: 22], cancelled: 22)),
                "seed 60140: the cancel skipped rows")
        #expect(CampaignRunner.cancelsLate(control: .cancel, counts: counts([.sent: 5, .pending: 3])), "rows left unsent")
        #expect(!CampaignRunner.cancelsLate(control: .cancel, counts: counts([.sent: 154, .skipped: 1])),
                "seed 7930: every row ended without it")
        #expect(!CampaignRunner.cancelsLate(control: .pause, counts: counts([.pending: 3])))
        #expect(!CampaignRunner.cancelsLate(control: nil, counts: counts([.pending: 3])))
    }

    /// A cancel the loop sees (it comes during the run) ends it cancelled, as before.
    @Test func aCancelDuringTheRunEndsItCancelled() async throws {
        let fixture = try Fixture(rows: CampaignRunnerTests.header + Fixture.validRows(20) + "\n", extra: "rate: {max_in_flight: 1}")
        var options = RunOptions()
        options.limit = 5
        var runner = try fixture.runner(options)
        runner.provider = CancellingProvider(journalPath: fixture.journalPath, cancelAt: 1)
        let summary = try await runner.run()
        let journal = try Journal(path: fixture.journalPath)
        let record = try #require(try journal.campaign(id: "test-campaign"))
        #expect(record.state == .cancelled && summary.state == .cancelled, "\(record.state) \(summary)")
        #expect(try journal.counts(cid: record.cid).byReason[.cancelled] ?? 0 >= 15)
        await #expect(throws: JournalError.self, "refused as cancelled, as the state says") { try await fixture.runner().run() }
    }

    /// A pause asked for while a sender holds the campaign is shown as requested until the
    /// sender takes it (journey seed 61337: a cancel read as `budget_exhausted` for a while).
    @Test func statusShowsARequestNotYetTaken() async throws {
        let fixture = try Fixture(rows: CampaignRunnerTests.header + Fixture.validRows(5) + "\n")
        var options = RunOptions()
        options.limit = 2
        _ = try await fixture.runner(options).run()
        let holder = try Journal(path: fixture.journalPath)
        let record = try #require(try holder.campaign(id: "test-campaign"))
        let inputs = CampaignInputs(id: record.id, campaignPath: record.campaignPath, templateSHA: record.templateSHA,
                                    recipientsSHA: record.recipientsSHA, channel: record.channel)
        let owner = LeaseOwner()
        _ = try holder.open(inputs, owner: owner, recipientsPath: fixture.csvPath, templatePath: "", unpause: true)
        #expect(try Journal(path: fixture.journalPath).request(.pause, campaign: "test-campaign"))
        var status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "test-campaign")[0]
        #expect(status.requested == "pause" && status.state != "paused", "\(status.state) \(String(describing: status.requested))")
        try holder.release(cid: record.cid, owner: owner, state: .paused)
        status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "test-campaign")[0]
        #expect(status.state == "paused" && status.requested == nil, "a pause taken is no longer requested: \(status.state)")
    }

    /// Accepts every message; on the `cancelAt`th, asks for a cancel from another connection.
    final class CancellingProvider: MessageProvider {
        let name = "simulator"
        let capabilities = ProviderCapabilities(honoursIdempotencyKeys: true)
        let journalPath: String
        let cancelAt: Int
        let sent = Mutex(0)

        init(journalPath: String, cancelAt: Int) {
            self.journalPath = journalPath
            self.cancelAt = cancelAt
        }

        func send(_ message: OutboundMessage) async -> SendOutcome {
            let count = sent.withLock { count -> Int in
                count += 1
                return count
            }
            if count == cancelAt { _ = try? Journal(path: journalPath).request(.cancel, campaign: message.campaign) }
            return .accepted(providerRef: "ref-\(message.row)")
        }

        func shutdown() async {}
    }
}
