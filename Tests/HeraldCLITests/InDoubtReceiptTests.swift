import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The in-doubt settlement scenario from end to end, against an AWS-style provider
/// that has no idempotency keys: a run killed mid-send and answers lost on the wire
/// leave rows in doubt; AWS event records (a gzip Firehose object and a plain one)
/// prove most of them accepted; `--resend-in-doubt` then resends only the others.
@Suite(.serialized) struct InDoubtReceiptTests {
    @Test func receiptsSettleInDoubtRowsAndOnlyTheRestAreResent() async throws {
        // Every request is delivered; the answer to every 7th is lost (until the final resend).
        let lossy = Atomic<Bool>(true)
        let received = Mutex<[Int: Int]>([:])  // CSV line -> requests that reached the provider
        let server = try await LoopbackServer { request in
            guard request.header("X-Amz-Target") == "PinpointSMSVoiceV2.SendTextMessage" else {
                return .respond(status: 200, body: #"{"SpendLimits":[]}"#)
            }
            let context = request.json["Context"] as? [String: String] ?? [:]
            let row = Int(context["herald_row"] ?? "") ?? -1
            let count = received.withLock { received -> Int in
                received[row, default: 0] += 1
                return received.values.reduce(0, +)
            }
            return count % 7 == 0 && lossy.load(ordering: .relaxed) ? .close : .respond(status: 200, body: #"{"MessageId":"aws-\#(row)"}"#)
        }
        let fixture = try CLIFixture()
        let rows = CLIFixture.rows(300)
        try fixture.write("recipients.csv", "phone,name,code\n" + rows.map(\.line).joined(separator: "\n") + "\n")
        let file = try fixture.campaign(
            "aws", provider: "{kind: aws, region: us-east-1, endpoint: \"\(server.url)\", origination_identity: \"+12025550100\"}",
            extra: "rate: {messages_per_second: 150, max_in_flight: 4}\nretry: {max_attempts: 1}")
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "HERALD_JOURNAL": "journal.sqlite"]
        let killed = try HeraldProcess(["run", file], in: fixture.folder, environment: environment)
        usleep(900_000)
        killed.signal(SIGKILL)
        #expect(killed.wait().status == 128 + SIGKILL)
        let first = try HeraldProcess.run(["resume", "aws"], in: fixture.folder, environment: environment)
        #expect(first.status == 6, "ends with rows in doubt: \(first.stdout)\n\(first.stderr)")
        let status = try JSONSerialization.jsonObject(with: Data(
            try HeraldProcess.run(["status", "aws", "--json"], in: fixture.folder, environment: environment).stdout.utf8)) as? [String: Any]
        let doubtful = (status?["in_doubt"] as? [[String: Any]] ?? []).compactMap { $0["row"] as? Int }
        let reasons = status?["in_doubt_reasons"] as? [String: Int] ?? [:]
        #expect(doubtful.count >= 10 && reasons["lost_answer"] ?? 0 > 0, "\(reasons)")

        // Events for the in-doubt rows the provider got, except every third one.
        let got = received.withLock { $0 }
        let answered = doubtful.filter { got[$0] != nil && $0 % 3 != 0 }
        let unanswered = doubtful.filter { !answered.contains($0) }
        func record(_ row: Int) -> String {
            #"{"eventType":"TEXT_DELIVERED","eventTimestamp":1764496800000,"isFinal":true,"messageId":"lost-\#(row)","messageStatus":"DELIVERED","context":{"campaign":"aws","herald_row":"\#(row)"}}"#
        }
        let half = answered.count / 2
        try fixture.write("events.json", answered[..<half].map(record).joined() + "\n"
            + #"{"eventType":"TEXT_DELIVERED","isFinal":true,"messageId":"nobody"}"#)
        try fixture.write("firehose", answered[half...].map(record).joined())
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-n", fixture.path("firehose")]
        try gzip.run()
        gzip.waitUntilExit()
        let imported = try HeraldProcess.run(["receipts", "import", "events.json", "firehose.gz"], in: fixture.folder,
                                             environment: environment)
        #expect(imported.status == 0 && imported.stdout.contains(
            "\(answered.count + 1) records: \(answered.count) matched, 1 unmatched, \(answered.count) in-doubt rows settled"),
                "\(imported.stdout)\n\(imported.stderr)")

        // Inside the grace period nothing is resent; with --receipt-grace 0 only the rest.
        let graced = try HeraldProcess.run(["resume", "aws", "--resend-in-doubt"], in: fixture.folder, environment: environment)
        #expect(graced.status == 6 && graced.stdout.contains("\(unanswered.count) in doubt"), "\(graced.stdout)")
        let before = received.withLock { $0 }
        lossy.store(false, ordering: .relaxed)
        let resend = try HeraldProcess.run(["resume", "aws", "--resend-in-doubt", "--receipt-grace", "0"], in: fixture.folder,
                                           environment: environment)
        #expect(resend.stdout.contains("300 sent"), "\(resend.stdout)\n\(resend.stderr)")
        let after = received.withLock { $0 }
        for row in answered { #expect(after[row] == before[row], "line \(row) had a receipt: never resent") }
        for row in unanswered { #expect((after[row] ?? 0) > (before[row] ?? 0), "line \(row) had no receipt: resent") }
        let doctor = try HeraldProcess.run(["doctor", "aws"], in: fixture.folder, environment: environment)
        #expect(doctor.status == 0, "\(doctor.stdout)")
        try await server.shutdown()
    }
}
