// herald-bench: figures for Herald's speed and memory targets, one JSON line each.
// `herald-bench --help` lists the modes (the `usage` text below).
//
// Recipients are generated into a temporary folder: +1 NPA-555-XXXX numbers, an
// exchange not assigned to subscribers, sent only to the in-process simulator.
import Foundation
import HeraldCore
import HeraldCSV
import HeraldEngine
import HeraldProviders
import HeraldJournal
import HeraldSQLite

#if canImport(Glibc)
import Glibc
#endif

func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? -1
        return kilobytes / 1024
    }
    return -1
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    fflush(nil)
}

/// Writes a campaign, a template and `rows` recipients into `folder`.
func makeCampaign(in folder: URL, rows: Int, budget: Bool = false, rcs: Bool = false) throws -> String {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try (rcs ? rcsTemplate : """
    id: bench
    channel: sms
    variables:
      name: {type: string, required: true, max_length: 40}
      code: {type: string, required: true}
      points: {type: integer, default: 0}
    body: "Hi <name>, your code is <code>. You have <points> points."
    """).write(to: folder.appendingPathComponent("template.yaml"), atomically: true, encoding: .utf8)
    try """
    id: bench
    template: template.yaml
    recipients: recipients.csv
    provider: {kind: simulator}
    rate: {max_in_flight: 256}
    """.appending(budget ? "\nprices: prices.csv\nbudget: {max_price: 0.05, campaign_limit: 100000, monthly_limit: 200000}\n" : "")
        .write(to: folder.appendingPathComponent("campaign.yaml"), atomically: true, encoding: .utf8)
    try "country,channel,price\nUS,sms,0.00581\nCA,sms,0.0075\n*,sms,0.05\n*,rcs,0.004\n"
        .write(to: folder.appendingPathComponent("prices.csv"), atomically: true, encoding: .utf8)
    let handle = try FileHandle(forWritingTo: {
        let url = folder.appendingPathComponent("recipients.csv")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }())
    var chunk = "phone,name,code,points\n"
    for index in 0..<rows {
        let area = 201 + index / 10_000 % 798
        chunk += "+1 \(area) 555 \(String(format: "%04d", index % 10_000)),Person \(index),C\(index % 99_991),\(index % 500)\n"
        if chunk.utf8.count > 1 << 20 {
            handle.write(Data(chunk.utf8))
            chunk = ""
        }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
    return folder.appendingPathComponent("campaign.yaml").path
}

/// A rich card with four suggestions and an SMS fallback, placeholders in most strings.
let rcsTemplate = """
    id: bench
    channel: rcs
    variables:
      name: {type: string, required: true, max_length: 40}
      code: {type: string, required: true}
      points: {type: integer, default: 0}
    rcs:
      card:
        title: "Hi <name>"
        description: "Your code is <code>. You have <points> points."
        media: {url: "https://example.com/img/<code>.jpg", height: medium}
        suggestions:
          - {type: reply, text: "Use <code>", postback: "use-<code>"}
          - {type: open_url, text: "Open", url: "https://example.com/c/<code>"}
          - {type: dial, text: "Call us", phone: "+12025550100"}
          - {type: calendar, text: "Remind me", title: "Code <code>", start: "2030-03-03T15:00:00Z", end: "2030-03-03T16:00:00Z"}
    fallback_sms: "Hi <name>, your code is <code>."
    """

func endToEnd(rows: Int, budget: Bool, rcs: Bool = false, suppressed: Int = 0) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let campaign = try makeCampaign(in: folder, rows: rows, budget: budget, rcs: rcs)
    if suppressed > 0 {
        // With the suppression list, a frequency cap too (the issue's recipient-care setting).
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: campaign))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\nfrequency_cap: {messages: 1, days: 7}\n".utf8))
        try handle.close()
    }
    let label = (budget ? "_budget" : "") + (rcs ? "_rcs" : "") + (suppressed > 0 ? "_suppressed" : "")
    let plan = try CampaignPlan.load(campaignPath: campaign)
    let journal = folder.appendingPathComponent("journal.sqlite").path
    // A suppression list of `suppressed` numbers (fictional NPA-555 numbers of other area
    // codes), a thousandth of which are the campaign's own recipients.
    let listed = suppressed > 0 ? min(rows / 1000, suppressed) : 0
    if suppressed > 0 {
        // Made by a child process, so that its memory is not counted as the run's.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["make-suppression", journal, String(suppressed), String(listed)]
        try child.run()
        child.waitUntilExit()
        precondition(child.terminationStatus == 0)
    }
    let runner = CampaignRunner(plan: plan, journalPath: journal, options: RunOptions(), stop: StopSignal())
    let summary = try await runner.run()
    // The generated numbers (+1 NPA 555 XXXX) run out at 7,980,000: beyond, rows repeat one.
    let repeats = summary.counts.byReason[.duplicate, default: 0]
    precondition(repeats == max(0, rows - 7_980_000), "unexpected duplicates: \(repeats)")
    let messages = rows - listed - repeats
    precondition(summary.counts[.sent] == messages, "expected \(messages) sent, got \(summary.counts[.sent])")
    let sendSeconds = summary.elapsedSeconds - summary.importSeconds
    emit(["figure": "import_rows_per_s" + label, "rows": rows, "value": Int(Double(rows) / summary.importSeconds),
          "seconds": summary.importSeconds, "target": rcs ? ">= 150000" : ">= 600000 at 1M rows"])
    emit(["figure": "send_settle_msgs_per_s" + label, "rows": rows, "value": Int(Double(messages) / sendSeconds),
          "seconds": sendSeconds])
    emit(["figure": "end_to_end_msgs_per_s" + label, "rows": rows, "value": Int(Double(messages) / summary.elapsedSeconds),
          "seconds": summary.elapsedSeconds, "target": ">= 50000"])
    emit(["figure": "peak_rss_mb" + label, "rows": rows, "value": peakRSSMegabytes(), "target": "<= 64, flat in rows"])
    // After the RSS reading: validate keeps a set of numbers to count duplicates.
    let scanStart = ContinuousClock.now
    let report = try plan.validate()
    let scanSeconds = scanStart.duration(to: .now)
    let scanned = Double(scanSeconds.components.seconds) + Double(scanSeconds.components.attoseconds) * 1e-18
    precondition(report.sendable == rows - repeats, "generated rows must all be valid")
    emit(["figure": "validate_rows_per_s", "rows": rows, "value": Int(Double(rows) / scanned), "seconds": scanned])
}

/// libcsv alone: records read from a file, no checks.
func parseOnly(path: String) throws {
    let start = ContinuousClock.now
    let reader = try CSVReader(path: path)
    var rows = 0
    try reader.forEachRecord { _ in
        rows += 1
        return true
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    emit(["figure": "csv_parse_rows_per_s", "rows": rows, "value": Int(Double(rows) / seconds), "seconds": seconds])
}

/// `herald estimate` on a priced, budgeted campaign (no journal).
func estimate(rows: Int) async throws {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let campaign = try makeCampaign(in: folder, rows: rows, budget: true)
    let start = ContinuousClock.now
    let plan = try CampaignPlan.load(campaignPath: campaign)
    let result = try plan.estimate(journalPath: nil)
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    precondition(result.messages == rows)
    emit(["figure": "estimate_rows_per_s", "rows": rows, "value": Int(Double(rows) / seconds), "seconds": seconds,
          "target": ">= 2000000"])
    emit(["figure": "estimate_peak_rss_mb", "rows": rows, "value": peakRSSMegabytes(), "target": "<= 100"])
}

/// A suppression list of `count` fictional NPA-555 numbers in the journal at `path`: the
/// first `own` are the bench campaign's (every thousandth recipient), the rest of other area codes.
func makeSuppression(path: String, count: Int, own: Int) throws {
    let store = try JournalOpener.sqlite(path, for: "herald-bench")
    var entries: [SuppressionEntry] = []
    for index in 0..<count {
        let mine = index < own
        let number = mine ? index * 1000 : index
        let area = UInt64(mine ? 201 + number / 10_000 % 798 : 401 + number / 10_000 % 500)
        entries.append(SuppressionEntry(destination: 10_000_000_000 + area * 10_000_000 + 5_550_000 + UInt64(number % 10_000),
                                        source: .imported, addedAt: 0))
        if entries.count == 100_000 || index == count - 1 {
            try store.suppress(entries)
            entries.removeAll(keepingCapacity: true)
        }
    }
}

let usage = """
herald-bench: figures for Herald's speed and memory targets, one JSON line each.

usage:

  swift run -c release herald-bench                 # the standard set, each in its own process
  swift run -c release herald-bench e2e 250000      # end to end, one size
  swift run -c release herald-bench e2e-budget N    # the same with prices and a budget (guard on)
  swift run -c release herald-bench e2e-routed N [URL|-] [one|two]  # one priced provider, then two with least_cost (URL: PostgreSQL)
  swift run -c release herald-bench e2e-suppressed N  # the same with a 1,000,000-number suppression list and a frequency cap
  swift run -c release herald-bench estimate N      # herald estimate
  swift run -c release herald-bench import-where N  # import and estimate without, then with, a three-clause where:
  swift run -c release herald-bench import-content N  # import with where:, two languages and smart encoding beside a plain one; estimate beside sqlite3 .import
  swift run -c release herald-bench pool-claim N [URL]  # the journal's claim and settle without a pool, with one (sticky identities written), again with a grown pool (read back) (URL: PostgreSQL)
  swift run -c release herald-bench rate R          # pacing at R msg/s for 10 s
  swift run -c release herald-bench throttle R      # R msg/s against a simulator throttling at R/2
  swift run -c release herald-bench e2e-rcs N       # end to end with an RCS rich-card template
  swift run -c release herald-bench resume N        # import N, send half, time a resume's first send and status
  swift run -c release herald-bench aws N           # the AWS adapter, 64 in flight, to a loopback sink
  swift run -c release herald-bench aws-rcs N       # the same with SendRcsMessage (rich card)
  swift run -c release herald-bench twilio N        # the Twilio adapter (form encoding, Basic), the same way
  swift run -c release herald-bench receipts-http N [URL] # N Agile callbacks (+40% READ) to `herald receipts serve`, 64 connections (URL: an empty PostgreSQL database as the journal)
  swift run -c release herald-bench receipts-contention N [R]  # a simulator campaign of N rows (R msg/s), alone and under 20,000 callbacks/s
  swift run -c release herald-bench receipts-import N [URL] # `herald receipts import` of N AWS records (gzip) (URL: PostgreSQL)
  swift run -c release herald-bench report N [URL]  # `herald report` (HTML, then CSV) of a finished N-row campaign with receipts (URL: PostgreSQL, no receipts)
  swift run -c release herald-bench pg-ping N URL   # N one-row reads from the PostgreSQL journal at URL: the round trip every statement pays (and through PostgresClient)
  swift run -c release herald-bench pg-e2e N URL    # the PostgreSQL journal at URL: COPY import and send, one process
  swift run -c release herald-bench pg-pair N URL   # two processes sending one campaign on the PostgreSQL journal
  swift run -c release herald-bench pg-story N URL  # three workers (one SIGKILLed twice), a receiver, callbacks for every message
  swift run -c release herald-bench slow-export N R # `herald serve`: R clients reading an N-row recipient CSV slowly, one asking for /api/campaigns

Each size runs in a fresh child process so that its peak RSS (VmHWM) is its own.
Exit status: 0 done, 2 unknown mode or bad argument, otherwise the failing run's.

"""

// As `herald` does first thing, so that the senders run here keep what herald's would.
ProcessMemory.configureAllocator()
let arguments = CommandLine.arguments
let modes: Set = ["make-suppression", "csv", "e2e", "e2e-suppressed", "e2e-budget", "estimate", "e2e-rcs", "resume", "aws", "twilio",
                  "aws-rcs", "pg-ping", "receipts-http", "receipts-contention", "report", "receipts-parse", "receipts-import", "pg-e2e",
                  "pg-pair", "pg-join", "pg-story", "rate", "throttle", "slow-export", "e2e-routed", "import-where", "import-content", "pool-claim"]
if arguments.count >= 2, ["--help", "-h", "help"].contains(arguments[1]) {
    print(usage, terminator: "")
    exit(0)
}
if arguments.count >= 2, !modes.contains(arguments[1]) {
    FileHandle.standardError.write(Data("herald-bench: unknown mode '\(arguments[1])'\n\n\(usage)".utf8))
    exit(2)
}
if arguments.count >= 5, arguments[1] == "make-suppression", let count = Int(arguments[3]), let own = Int(arguments[4]) {
    try makeSuppression(path: arguments[2], count: count, own: own)
} else if arguments.count >= 3, arguments[1] == "csv" {
    try parseOnly(path: arguments[2])
} else if arguments.count >= 3, arguments[1] == "e2e", let rows = Int(arguments[2]) {
    try await endToEnd(rows: rows, budget: false)
} else if arguments.count >= 3, arguments[1] == "e2e-suppressed", let rows = Int(arguments[2]) {
    try await endToEnd(rows: rows, budget: false, suppressed: 1_000_000)
} else if arguments.count >= 3, arguments[1] == "e2e-budget", let rows = Int(arguments[2]) {
    try await endToEnd(rows: rows, budget: true)
} else if arguments.count >= 3, arguments[1] == "e2e-routed", let rows = Int(arguments[2]) {
    try await routingBench(rows: rows, url: arguments.count >= 4 && arguments[3] != "-" ? arguments[3] : nil,
                           only: arguments.count >= 5 ? arguments[4] : nil)
} else if arguments.count >= 3, arguments[1] == "import-content", let rows = Int(arguments[2]) {
    try await contentBench(rows: rows)
} else if arguments.count >= 3, arguments[1] == "pool-claim", let rows = Int(arguments[2]) {
    try poolBench(rows: rows, url: arguments.count >= 4 ? arguments[3] : nil)
} else if arguments.count >= 3, arguments[1] == "import-where", let rows = Int(arguments[2]) {
    try await segmentBench(rows: rows)
} else if arguments.count >= 3, arguments[1] == "estimate", let rows = Int(arguments[2]) {
    try await estimate(rows: rows)
} else if arguments.count >= 3, arguments[1] == "e2e-rcs", let rows = Int(arguments[2]) {
    try await endToEnd(rows: rows, budget: false, rcs: true)
} else if arguments.count >= 3, arguments[1] == "resume", let rows = Int(arguments[2]) {
    try await resumeBench(rows: rows)
} else if arguments.count >= 3, ["aws", "aws-rcs", "twilio"].contains(arguments[1]), let count = Int(arguments[2]) {
    try await adapterBench(count: count, inFlight: 64, kind: arguments[1])
} else if arguments.count >= 4, arguments[1] == "pg-ping", let count = Int(arguments[2]) {
    let journal = try JournalOpener.receipts(arguments[3])
    _ = try journal.receiptSetting("ping")
    let start = ContinuousClock.now
    for _ in 0..<count { _ = try journal.receiptSetting("ping") }
    let seconds = Double(start.duration(to: .now).components.attoseconds) / 1e18 + Double(start.duration(to: .now).components.seconds)
    emit(["figure": "pg_round_trip_us", "value": seconds / Double(count) * 1e6, "count": count])
    try await pgClientPing(count: count, url: arguments[3])
} else if arguments.count >= 3, arguments[1] == "receipts-http", let rows = Int(arguments[2]) {
    try await receiptsHTTPBench(rows: rows, journal: arguments.count >= 4 ? arguments[3] : nil)
} else if arguments.count >= 3, arguments[1] == "receipts-contention", let rows = Int(arguments[2]) {
    try await receiptsContentionBench(rows: rows, rate: arguments.count >= 4 ? Int(arguments[3]) : nil)
} else if arguments.count >= 3, arguments[1] == "report", let rows = Int(arguments[2]) {
    try await reportBench(rows: rows, journal: arguments.count >= 4 ? arguments[3] : nil)
} else if arguments.count >= 3, arguments[1] == "receipts-parse" {
    // Reading alone (inflate, split, parse), for comparing with the whole import.
    let start = ContinuousClock.now
    var count = 0
    try AWSEventRecords.read(file: arguments[2]) { _ in count += 1 }
    let elapsed = seconds(start.duration(to: .now))
    emit(["figure": "receipts_parse_records_per_s", "records": count, "value": Int(Double(count) / elapsed), "seconds": elapsed])
} else if arguments.count >= 3, arguments[1] == "receipts-import", let rows = Int(arguments[2]) {
    try await receiptsImportBench(rows: rows, journal: arguments.count >= 4 ? arguments[3] : nil)
} else if arguments.count >= 4, arguments[1] == "pg-e2e", let rows = Int(arguments[2]) {
    try await postgresEndToEnd(rows: rows, url: arguments[3])
} else if arguments.count >= 4, arguments[1] == "pg-story", let rows = Int(arguments[2]) {
    try await storyBench(rows: rows, url: arguments[3])
} else if arguments.count >= 4, arguments[1] == "pg-pair", let rows = Int(arguments[2]) {
    try await postgresPair(rows: rows, url: arguments[3])
} else if arguments.count >= 4, arguments[1] == "pg-join" {
    try await postgresJoin(campaign: arguments[2], url: arguments[3])
} else if arguments.count >= 4, arguments[1] == "slow-export", let rows = Int(arguments[2]), let readers = Int(arguments[3]) {
    try await slowExportBench(rows: rows, readers: readers)
} else if arguments.count >= 3, arguments[1] == "rate" || arguments[1] == "throttle", let rate = Int(arguments[2]) {
    try await rateBench(rate: rate, throttle: arguments[1] == "throttle")
} else if arguments.count >= 2 {
    FileHandle.standardError.write(Data("herald-bench: \(arguments[1]): missing or bad arguments\n\n\(usage)".utf8))
    exit(2)
} else {
    let runs = [("e2e", 100_000), ("e2e", 1_000_000), ("e2e-budget", 1_000_000), ("e2e-suppressed", 1_000_000), ("estimate", 1_000_000),
                ("resume", 1_000_000), ("e2e-rcs", 1_000_000), ("aws", 100_000), ("aws-rcs", 100_000), ("twilio", 100_000),
                ("receipts-http", 200_000), ("receipts-contention", 1_000_000), ("receipts-import", 1_000_000), ("report", 1_000_000), ("rate", 50), ("rate", 500), ("rate", 5000), ("throttle", 50), ("throttle", 500), ("throttle", 5000)]
    for (mode, rows) in runs {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: arguments[0])
        child.arguments = [mode, String(rows)]
        try child.run()
        child.waitUntilExit()
        if child.terminationStatus != 0 { exit(child.terminationStatus) }
    }
}

/// Import of N rows without and then with a three-clause `where:` (about a fifth of the rows
/// kept), each into a journal of its own, in one run: the filter's cost at import, and
/// `estimate`'s, side by side.
func segmentBench(rows: Int) async throws {
    let filter = #"where: 'country in [US, CA] and points >= 400 and name != "Person 7"'"#
    for (label, extra) in [("", ""), ("_where", "\n" + filter + "\n")] {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("herald-bench-\(getpid())\(label)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let campaign = try makeCampaign(in: folder, rows: rows)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: campaign))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(extra.utf8))
        try handle.close()
        let plan = try CampaignPlan.load(campaignPath: campaign)
        let estimateStart = ContinuousClock.now
        let estimate = try plan.estimate(journalPath: nil)
        let estimateSeconds = seconds(estimateStart.duration(to: .now))
        var options = RunOptions()
        options.limit = 1
        let runner = CampaignRunner(plan: plan, journalPath: folder.appendingPathComponent("journal.sqlite").path, options: options,
                                    stop: StopSignal())
        let summary = try await runner.run()
        precondition(label.isEmpty ? estimate.filtered == 0 : estimate.filtered > rows / 2, "the filter leaves out \(estimate.filtered)")
        emit(["figure": "import_rows_per_s" + label, "rows": rows, "value": Int(Double(rows) / summary.importSeconds),
              "seconds": summary.importSeconds, "kept": estimate.messages])
        emit(["figure": "estimate_rows_per_s" + label, "rows": rows, "value": Int(Double(rows) / estimateSeconds),
              "seconds": estimateSeconds])
    }
}
