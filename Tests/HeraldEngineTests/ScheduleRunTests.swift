import Foundation
import HeraldCore
import HeraldSettings
import HeraldJournal
import HeraldSQLite
import Synchronization
import Testing
@testable import HeraldEngine

@Suite struct ScheduleRunTests {
    /// "HH:MM" in UTC, `minutes` from now.
    func utcClock(_ minutes: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(Double(minutes) * 60))
        return String(format: "%02d:%02d", parts.hour!, parts.minute!)
    }

    @Test func recipientsOutsideTheirWindowWaitOthersAreSent() async throws {
        // The window opens in two hours UTC: closed for UTC recipients, open for UTC+2 ones.
        let began = Date()
        let window = "{start: \"\(utcClock(110))\", end: \"\(utcClock(170))\"}"
        var csv = "phone,name,code,points,tz\n"
        for index in 0..<10 {
            csv += "+44 7700 \(900000 + index),N\(index),C\(String(format: "%03d", index)),1,\(index % 2 == 0 ? "UTC" : "Etc/GMT-2")\n"
        }
        csv += "+44 7700 900500,Bad,C500,1,Mars/Olympus\n"
        let fixture = try Fixture(rows: csv, extra: "timezone_column: tz\nschedule: {window: \(window), timezone: recipient}")
        let stop = StopSignal()
        var runner = try fixture.runner(stop: stop)
        runner.onProgress = { if $0.phase == .waiting { stop.request(.signal(2)) } }
        let summary = try await runner.run()
        #expect(summary.counts[.sent] == 5, "the UTC+2 recipients are inside their window")
        #expect(summary.counts[.retry] == 5, "the UTC ones wait, they are not skipped")
        #expect(summary.counts.byReason == [.badTimezone: 1])
        let outbox = try fixture.outbox()
        #expect(Set(outbox.map(\.destination)) == Set((0..<10).filter { $0 % 2 == 1 }.map { "+44 7700 \(900000 + $0)".filter { $0 != " " } }))
        let status = try CampaignStatus.load(journalPath: fixture.journalPath, id: "test-campaign")[0]
        let next = try #require(status.nextSendAt.flatMap { ISO8601DateFormatter().date(from: $0) })
        // At the window's start: 110 minutes after `began`, less the seconds "HH:MM" dropped
        // (measured from `began`, not from now: a loaded machine takes its time over the run).
        let opensAfter = next.timeIntervalSince(began)
        #expect(opensAfter > 110 * 60 - 62 && opensAfter < 110 * 60 + 2, "they wait for their window to open: \(opensAfter) s")
    }

    /// The progress line's facts while rows wait for their window: how many, when it opens,
    /// the spend against the limit, and an ETA from the rate and each zone's opening.
    @Test func progressKnowsTheWindowsTheSpendAndTheFinish() async throws {
        let began = Date()
        let opening = utcClock(110)
        let window = "{start: \"\(opening)\", end: \"\(utcClock(170))\"}"
        // Three zones: UTC+2 inside its window now, UTC opening in 110 minutes, UTC-1 an hour later.
        var csv = "phone,name,code,points,tz\n"
        for index in 0..<12 {
            csv += "+44 7700 \(900000 + index),N\(index),C\(String(format: "%03d", index)),1,\(["UTC", "Etc/GMT-2", "Etc/GMT+1"][index % 3])\n"
        }
        let fixture = try Fixture(rows: csv, extra: """
            timezone_column: tz
            schedule: {window: \(window), timezone: recipient}
            prices: prices.csv
            budget: {campaign_limit: 1.00}
            rate: {messages_per_second: 50}
            """)
        try "country,channel,price\nGB,sms,0.04\n".write(to: fixture.folder.appendingPathComponent("prices.csv"), atomically: true, encoding: .utf8)
        let stop = StopSignal()
        var runner = try fixture.runner(stop: stop)
        let seen = Mutex<RunProgress?>(nil)
        runner.onProgress = { progress in
            guard progress.phase == .waiting, progress.waitingForWindow > 0 else { return }
            seen.withLock { $0 = progress }
            stop.request(.signal(2))
        }
        _ = try await runner.run()
        let progress = try #require(seen.withLock { $0 })
        #expect(progress.waitingForWindow == 8 && progress.done == 4 && progress.total == 12)
        #expect(progress.spent == Money(nanos: 4 * 40_000_000) && progress.limit == Money(nanos: 1_000_000_000))
        #expect(progress.windowStart == opening)
        let opens = try #require(progress.windowOpens)
        #expect(abs(opens.timeIntervalSince(began) - 110 * 60) < 65, "\(opens)")
        // Nothing open left: the UTC rows go from their opening, the UTC-1 rows from theirs an
        // hour later, four of them at 50 a second.
        let finish = try #require(progress.finishesAt)
        #expect(abs(finish.timeIntervalSince(opens) - 3600.08) < 0.001, "\(finish) \(opens)")
    }

    @Test func theFinishCountsOpenRowsThenEachMinutesWaitingRowsFromThatMinute() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let ms = { (seconds: Double) in Int64((1_000_000 + seconds) * 1000) }
        func finish(_ remaining: Int, _ waiting: [RemainingRows], rate: Double? = 10) -> Date? {
            ETA.finish(ETA.adjusted(waiting, remaining: remaining), window: nil, rate: rate, now: now)
        }
        func due(_ seconds: Double, _ rows: Int) -> RemainingRows { RemainingRows(zones: nil, due: ms(seconds), rows: rows) }
        #expect(finish(100, []) == now.addingTimeInterval(10))
        // The open rows end before the window opens: the waiting ones start at the opening.
        #expect(finish(150, [due(3600, 50)]) == now.addingTimeInterval(3605))
        // They end after it: the waiting ones follow them.
        #expect(finish(100_050, [due(60, 50)]) == now.addingTimeInterval(10_005))
        // Zones whose windows open at different hours: each zone's rows from its own opening (the
        // eastern rows done long before the western window opens), not all at the first one.
        #expect(finish(250, [due(3600, 100), due(4 * 3600, 50)]) == now.addingTimeInterval(4 * 3600 + 5))
        // A retry due in a minute behind a long queue of open rows changes nothing.
        #expect(finish(1_001, [due(60, 1)]) == now.addingTimeInterval(100.1))
        #expect(finish(1, [], rate: nil) == nil)
        // Rows sent since the groups were read leave the pending ones first.
        let read = [due(3600, 50), RemainingRows(zones: nil, due: nil, rows: 100)]
        #expect(ETA.adjusted(read, remaining: 120) == [due(3600, 50), RemainingRows(zones: nil, due: nil, rows: 70)])
        #expect(ETA.adjusted(read, remaining: 160).first == RemainingRows(zones: nil, due: nil, rows: 10))
    }

    /// A window that closes on rows not yet sent: they go at its next opening, and the ETA says
    /// so (the old rule, rows over the rate from now, said tonight).
    @Test func theFinishForeseesAWindowClosingOnRowsNotYetSent() throws {
        let window = try #require(SendWindow(start: "08:00", end: "20:00"))
        // 2027-01-15 19:00Z; London is on UTC in January.
        let now = Date(timeIntervalSince1970: 1_800_039_600)
        let london = "Europe/London", newYork = "America/New_York"
        // 72,000 rows at 10 a second: 36,000 before 20:00, the rest from 08:00 the next day.
        let pending = [RemainingRows(zones: london, due: nil, rows: 72_000)]
        let finish = try #require(ETA.finish(pending, window: window, rate: 10, now: now))
        #expect(finish == now.addingTimeInterval(14 * 3600))
        // New York's window is open until 01:00Z: London's rows first until 20:00Z, New York's
        // 18,000 then, by 20:30Z, then London's last 36,000 from 08:00Z: done 09:00Z.
        let two = [RemainingRows(zones: london, due: nil, rows: 72_000), RemainingRows(zones: newYork, due: nil, rows: 18_000)]
        #expect(ETA.finish(two, window: window, rate: 10, now: now) == now.addingTimeInterval(14 * 3600))
        // A row with no zone is never held by the window.
        #expect(ETA.finish([RemainingRows(zones: nil, due: nil, rows: 72_000)], window: window, rate: 10, now: now)
            == now.addingTimeInterval(7_200))
        // A window that never opens for a zone in a year: no ETA rather than a wrong one.
        #expect(ETA.finish([RemainingRows(zones: london, due: nil, rows: 10_000_000_000)], window: window, rate: 1, now: now) == nil)
    }

    @Test func startInTheFutureWaitsAndCanBeStopped() async throws {
        let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let fixture = try Fixture(rows: "phone,name,code,points\n" + Fixture.validRows(3) + "\n",
                                  extra: "schedule: {start_at: \"\(start)\"}")
        let stop = StopSignal()
        var runner = try fixture.runner(stop: stop)
        runner.onProgress = { progress in
            if progress.phase == .waiting, let left = progress.secondsLeft, left > 3500 { stop.request(.signal(15)) }
        }
        let summary = try await runner.run()
        #expect(summary.stop == .signal(15))
        #expect(summary.counts[.sent] == 0 && summary.counts[.pending] == 3)
        #expect(ExitStatus(for: summary) == .terminated)
    }

    @Test func badScheduleKeysAreRefused() throws {
        let rows = "phone,name,code,points\n" + Fixture.validRows(1) + "\n"
        for (extra, message) in [
            ("schedule: {timezone: Mars/Olympus}", "neither recipient nor an IANA time zone"),
            ("schedule: {window: {start: \"25:00\", end: \"20:00\"}}", "HH:MM"),
            ("schedule: {window: {start: \"09:00\", end: \"20:00\", days: [mon, funday]}}", "\"funday\" is not a day"),
            ("schedule: {start_at: tomorrow}", "not an ISO 8601 time"),
        ] {
            let fixture = try Fixture(rows: rows, extra: extra)
            let error = #expect(throws: InputError.self) { try CampaignPlan.load(campaignPath: fixture.campaignPath) }
            #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        }
    }
}
