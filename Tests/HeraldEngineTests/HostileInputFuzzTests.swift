import Foundation
import HeraldCore
import HeraldCSV
import HeraldEngine
import Testing
@testable import HeraldProviders

/// Issue 21: every parser of outside input, fed mutated copies of valid inputs for a bounded
/// time (`HERALD_FUZZ_SECONDS`, 2 s per target by default; CI runs it as part of the suite).
/// The property: no input traps the process, and whatever a receipt parser accepts has its
/// time inside the range the journal's readers assume. Mutations splice in the values that
/// once broke Herald (`9e18`, `1e999`, `Int64.min`), so those stay regression cases.
@Suite struct HostileInputFuzzTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["HERALD_FUZZ_SECONDS"] ?? "") ?? 2

    /// Values that broke a parser once, or are at the edge of a range.
    static let interesting: [String] = [
        "9e18", "1e999", "-1e999", "-9223372036854775808", "9223372036854775807", "18446744073709551616", "-0", "1e-999",
        "NaN", "Infinity", "null", "true", "[]", "{}", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\u{1B}[2J\"",
        String(repeating: "[", count: 2000), String(repeating: "9", count: 400), "\"+275760-09-13T00:00:00Z\"",
        "\"0000-00-00T00:00:00Z\"", "\"2026-02-30T25:61:61Z\"", "\u{FEFF}", "\r\n", "\n", ",", ":", "\"", "\\",
    ]

    /// Mutations of `seed`: byte flips, splices of interesting values, cuts, repeats.
    struct Mutator {
        var random: SplitMix64

        mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
            var bytes = seed
            for _ in 0...Int(random.next() % 4) {
                let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 6 {
                case 0 where !bytes.isEmpty:
                    bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                case 1, 2:
                    let value = HostileInputFuzzTests.interesting[Int(random.next() % UInt64(HostileInputFuzzTests.interesting.count))]
                    bytes.insert(contentsOf: Array(value.utf8), at: position)
                case 3:
                    // A number replaced by an interesting one, where there is a digit.
                    if let digit = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                        var end = digit
                        while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E { end += 1 }
                        let value = HostileInputFuzzTests.interesting[Int(random.next() % 6)]
                        bytes.replaceSubrange(digit..<end, with: Array(value.utf8))
                    }
                case 4:
                    bytes = Array(bytes.prefix(position))
                default:
                    let end = min(bytes.count, position + Int(random.next() % 64))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                }
            }
            return bytes
        }
    }

    /// Runs `check` on mutations of the seeds until the time is up; returns how many ran.
    @discardableResult
    static func fuzz(_ seeds: [String], seed: UInt64, _ check: ([UInt8]) throws -> Void) rethrows -> Int {
        var mutator = Mutator(random: SplitMix64(seed: seed))
        let deadline = Date().addingTimeInterval(seconds)
        var count = 0
        let bytes = seeds.map { Array($0.utf8) }
        for seed in bytes { try check(seed) }
        while Date() < deadline || count < 200 {
            try check(mutator.mutate(bytes[count % bytes.count]))
            count += 1
        }
        return count
    }

    static func expectTimesInRange(_ events: [DeliveryEvent], _ input: [UInt8]) {
        for event in events {
            if let at = event.at {
                #expect(JSONTree.eventTimes.contains(at), "accepted a time out of range: \(String(decoding: input, as: UTF8.self))")
            }
        }
    }

    @Test func agileCallbacks() {
        let count = Self.fuzz([
            #"{"eventType":"DELIVERY","messageId":"m-1","statusCode":3,"channel":"RCS","eventDate":"2026-11-30T10:45:00Z","description":"ok"}"#,
            #"[{"eventType":"READ","messageId":"m-2","eventDate":1764499500000},{"eventType":"INBOUND","source":"+447700900123","text":"STOP","receivedDate":"2026-11-30T10:45:00.123+01:00"}]"#,
        ], seed: 1) { input in
            if let events = try? AgileReceipts.events(body: input) { Self.expectTimesInRange(events, input) }
        }
        print("agile callbacks: \(count) mutated bodies")
    }

    @Test func v5Callbacks() {
        let count = Self.fuzz([
            #"{"messageGUID":"g-1","status":"DELIVERED","timestamp":1764499500000,"errorCode":"0","description":"ok"}"#,
            #"[{"messageId":"g-2","status":"failed","code":"E42","eventDate":"2026-11-30T10:45:00Z"},{"messageGUID":"g-3","status":"read","date":1764499500}]"#,
        ], seed: 2) { input in
            if let events = try? V5Receipts.events(body: input, campaign: "c", row: 2) { Self.expectTimesInRange(events, input) }
            if let events = try? V5Receipts.events(body: input, campaign: nil, row: nil) { Self.expectTimesInRange(events, input) }
        }
        print("v5 callbacks: \(count) mutated bodies")
    }

    @Test func snsMessagesAndTheEventsInside() {
        let record = #"{\"eventType\":\"TEXT_DELIVERED\",\"eventTimestamp\":1764496800000,\"isFinal\":true,\"messageId\":\"aws-1\",\"messageStatus\":\"DELIVERED\",\"totalMessagePrice\":0.0058,\"context\":{\"campaign\":\"c\",\"herald_row\":\"2\"}}"#
        let count = Self.fuzz([
            #"{"Type":"Notification","MessageId":"id-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"\#(record)","Timestamp":"2026-11-30T10:00:00.000Z","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem"}"#,
            #"{"Type":"SubscriptionConfirmation","MessageId":"id-2","TopicArn":"t","Message":"m","Timestamp":"2026-11-30T10:00:00Z","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem","Token":"t","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"}"#,
        ], seed: 3) { input in
            guard let message = try? SNSMessage(body: input) else { return }
            _ = message.stringToSign
            _ = SNSMessage.isSNSURL(message.signingCertURL)
            if let tree = JSONTree.parse(Array(message.message.utf8)), let event = try? AWSEventRecords.event(tree, raw: message.message) {
                Self.expectTimesInRange([event], input)
            }
        }
        print("SNS messages: \(count) mutated bodies")
    }

    @Test func receiptImportFiles() throws {
        let lines = [
            #"{"eventType":"TEXT_DELIVERED","eventTimestamp":1764496800000,"isFinal":true,"messageId":"aws-1","messageStatus":"DELIVERED","context":{"campaign":"c","herald_row":"2"}}"#,
            #"{"eventType":"TEXT_BLOCKED","eventTimestamp":"2026-11-30T10:00:00Z","isFinal":true,"messageId":"aws-2","messageStatus":"BLOCKED","totalMessagePrice":0.0058,"totalCarrierFee":0.0002}"#,
            #"{"originationNumber":"+447700900123","messageBody":"STOP","inboundMessageTimestamp":1764496800000}"#,
        ]
        let count = Self.fuzz([lines.joined(separator: "\n"), lines.joined()], seed: 4) { input in
            var events: [DeliveryEvent] = []
            var rejected = 0
            try? AWSEventRecords.read(input, rejected: { _ in rejected += 1 }) { events.append($0) }
            Self.expectTimesInRange(events, input)
        }
        print("receipt import files: \(count) mutated files")
    }

    @Test func recipientCSVTemplatesAndCampaignFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("recipients.csv").path
        let csvCount = Self.fuzz([
            "phone,name,code\n+15550100,Ann,AB12\n\"+447700900123\",\"Bo, \"\"B\"\"\",CD34\r\n",
            "phone;name\n+15550101;Ann\n# comment\n",
        ], seed: 5) { input in
            try? Data(input).write(to: URL(fileURLWithPath: csv))
            guard let reader = try? CSVReaderFuzzProbe.open(csv) else { return }
            reader()
        }
        let template = folder.appendingPathComponent("template.yaml").path
        let templateCount = Self.fuzz([
            """
            id: t
            channel: sms
            variables:
              name: {type: string, required: true, max_length: 20}
              code: {type: string, required: true, pattern: "[A-Z0-9]{4}"}
            body: "Hi <name>, your code is <code>"
            """,
        ], seed: 6) { input in
            try? Data(input).write(to: URL(fileURLWithPath: template))
            _ = try? TemplateFile.load(path: template)
            _ = try? TemplateBody(parsing: String(decoding: input, as: UTF8.self))
        }
        let campaign = folder.appendingPathComponent("campaign.yaml").path
        let campaignCount = Self.fuzz([
            """
            id: c
            template: template.yaml
            recipients: recipients.csv
            provider: {kind: simulator, latency_ms: "1-4", failure_rate: 0.01}
            schedule: {start: "2026-12-01T08:00:00Z", window: {from: "08:00", to: "20:00"}}
            rate: {messages_per_second: 200, burst: 5, max_in_flight: 16}
            budget: {campaign_limit: 5000.00, monthly_limit: 20000, max_price: 0.05}
            """,
        ], seed: 7) { input in
            try? Data(input).write(to: URL(fileURLWithPath: campaign))
            _ = try? CampaignSpec.load(path: campaign)
        }
        print("CSV: \(csvCount), templates: \(templateCount), campaign files: \(campaignCount) mutated files")
    }
}

/// Reads every record of a CSV file, as validation does.
enum CSVReaderFuzzProbe {
    static func open(_ path: String) throws -> () -> Void {
        let reader = try CSVReader(path: path)
        return {
            try? reader.forEachRecord { record in
                for index in 0...max(record.count, reader.header.count) { _ = record[index].count }
                return true
            }
        }
    }
}
