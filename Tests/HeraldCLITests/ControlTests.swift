import Foundation
import Testing

/// `herald pause`, `herald cancel`, `herald schedule` and `herald worker` with real processes.
@Suite(.serialized) struct ControlTests {
    struct Line: Decodable { let destination: String }

    /// 400 recipients sent slowly (two at a time, 10 ms each), so there is time to act.
    func slowCampaign(_ fixture: CLIFixture, _ id: String = "slow") throws -> String {
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(400).map(\.line).joined(separator: "\n") + "\n")
        return try fixture.campaign(id, provider: "{kind: simulator, latency_ms: 10, outbox: outbox.jsonl}",
                                    extra: "rate: {max_in_flight: 2}")
    }

    func outbox(_ fixture: CLIFixture) throws -> [Line] {
        guard let data = FileManager.default.contents(atPath: fixture.path("outbox.jsonl")) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Line.self, from: Data($0)) }
    }

    func state(_ fixture: CLIFixture, _ id: String) throws -> (state: String, counts: [String: Int]) {
        let result = try HeraldProcess.run(["status", id, "--json"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        return (object["state"] as! String, object["counts"] as! [String: Int])
    }

    /// Waits (bounded) until the campaign has sent something.
    func waitUntilSending(_ fixture: CLIFixture) throws {
        for _ in 0..<300 where try outbox(fixture).isEmpty { usleep(10_000) }
    }

    @Test func pauseStopsARunningSenderAndResumeFinishes() throws {
        let fixture = try CLIFixture()
        let file = try slowCampaign(fixture)
        let run = try HeraldProcess(["run", file], in: fixture.folder)
        try waitUntilSending(fixture)
        let pause = try HeraldProcess.run(["pause", "slow"], in: fixture.folder)
        #expect(pause.status == 0 && pause.stdout.contains("pause requested"))
        let stopped = run.wait(timeout: 10)
        #expect(stopped.status == 8, "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(stopped.stdout.contains("paused by `herald pause`"))
        let paused = try state(fixture, "slow")
        #expect(paused.state == "paused" && paused.counts["sending"] == 0 && paused.counts["sent"]! < 400)
        // A plain run of a paused campaign from a worker would be refused; resume continues it.
        let resumed = try HeraldProcess.run(["resume", "slow"], in: fixture.folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let lines = try outbox(fixture)
        #expect(lines.count == 400 && Set(lines.map(\.destination)).count == 400)
    }

    @Test func cancelStopsForGoodAndSkipsTheRest() throws {
        let fixture = try CLIFixture()
        let file = try slowCampaign(fixture)
        let run = try HeraldProcess(["run", file], in: fixture.folder)
        try waitUntilSending(fixture)
        #expect(try HeraldProcess.run(["cancel", "slow"], in: fixture.folder).status == 0)
        #expect(run.wait(timeout: 10).status == 8)
        let cancelled = try state(fixture, "slow")
        #expect(cancelled.state == "cancelled")
        #expect(cancelled.counts["sent"]! + cancelled.counts["skipped"]! == 400)
        #expect(cancelled.counts["sent"] == (try outbox(fixture).count))
        let again = try HeraldProcess.run(["resume", "slow"], in: fixture.folder)
        #expect(again.status == 8 && again.stderr.contains("was cancelled"))
    }

    @Test func workerStartsDueCampaignsAndStopsCleanlyOnSIGTERM() throws {
        let fixture = try CLIFixture()
        let file = try slowCampaign(fixture, "due")
        #expect(try HeraldProcess.run(["schedule", file], in: fixture.folder).status == 0)
        try fixture.write("later.yaml", try String(contentsOfFile: fixture.path(file), encoding: .utf8)
            .replacingOccurrences(of: "id: due", with: "id: later"))
        let scheduled = try HeraldProcess.run(["schedule", "later.yaml", "--at", "2099-01-01T00:00:00Z"], in: fixture.folder)
        #expect(scheduled.status == 0 && scheduled.stdout.contains("scheduled for 2099-01-01T00:00:00Z"))
        #expect(try state(fixture, "due").state == "scheduled")

        let worker = try HeraldProcess(["worker", "--poll", "0.1"], in: fixture.folder)
        try waitUntilSending(fixture)
        worker.signal(SIGTERM)
        let stopped = worker.wait(timeout: 10)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("starting due") && !stopped.stderr.contains("starting later"))
        let interrupted = try state(fixture, "due")
        #expect(interrupted.counts["sending"] == 0)
        #expect(try state(fixture, "later").state == "scheduled")

        // A new worker resumes the interrupted campaign and finishes it.
        let second = try HeraldProcess(["worker", "--poll", "0.1"], in: fixture.folder)
        for _ in 0..<1000 where try state(fixture, "due").state != "completed" { usleep(20_000) }
        second.signal(SIGTERM)
        #expect(second.wait(timeout: 10).status == 0)
        #expect(try state(fixture, "due").state == "completed")
        let lines = try outbox(fixture)
        #expect(lines.count == 400 && Set(lines.map(\.destination)).count == 400)
    }

    @Test func workerLeavesAForegroundRunStoppedByCtrlCAlone() throws {
        let fixture = try CLIFixture()
        let file = try slowCampaign(fixture, "mine")
        let run = try HeraldProcess(["run", file], in: fixture.folder)
        try waitUntilSending(fixture)
        run.signal(SIGINT)
        #expect(run.wait(timeout: 10).status == 130)
        let before = try state(fixture, "mine")
        #expect(before.state == "stopped")
        let worker = try HeraldProcess(["worker", "--poll", "0.1"], in: fixture.folder)
        usleep(800_000)
        worker.signal(SIGTERM)
        let stopped = worker.wait(timeout: 10)
        #expect(stopped.status == 0 && !stopped.stderr.contains("starting mine"), "\(stopped.stderr)")
        #expect(try state(fixture, "mine").counts["sent"] == before.counts["sent"])
    }
}
