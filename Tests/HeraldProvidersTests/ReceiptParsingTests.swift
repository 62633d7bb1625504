import Foundation
import HeraldCore
import Testing
@testable import HeraldProviders

/// Each provider's events parsed into one `DeliveryEvent` shape, with the mapping
/// tables the README documents.
@Suite struct ReceiptParsingTests {
    @Test func agileEventsMapToDeliveryStates() throws {
        let body = #"""
            [{"channel":"RCS","eventType":"DELIVERY","messageId":"a1","destination":"+447700900123","statusCode":3,"description":"delivered","eventDate":"2025-10-16T10:42:18Z"},
             {"channel":"RCS","eventType":"DELIVERY","messageId":"a2","statusCode":6,"description":"undeliverable"},
             {"channel":"SMS","eventType":"DELIVERY","messageId":"a3","statusCode":3},
             {"channel":"RCS","eventType":"READ","messageId":"a1","eventDate":"2025-10-16T10:43:05Z"},
             {"channel":"RCS","eventType":"INBOUND","messageId":"in-1","source":"+447700900123","text":"STOP"}]
            """#
        let events = try AgileReceipts.events(body: Array(body.utf8))
        #expect(events.map(\.state) == [.delivered, .undelivered, .fallback, nil, nil])
        #expect(events[0].match == .reference("a1") && events[0].at == 1_760_611_338_000)
        #expect(events[1].code == "6" && events[1].detail == "undeliverable")
        #expect(events[3].read && events[4].match == .none)
        #expect(events[0].raw.hasPrefix("{") && events[0].raw.contains("\"a1\""), "each event of a batch keeps its own raw copy")
    }

    @Test(arguments: [
        (#"{"eventType":"DELIVERY"}"#, "has no \"messageId\""),
        (#"{"messageId":"x"}"#, "has no \"eventType\""),
        (#"[1,2]"#, "other than event objects"),
        (#"{"eventType":"#, "not valid JSON"),
    ])
    func malformedAgileBodiesAreRefused(body: String, message: String) {
        #expect(throws: ReceiptParseError.self) { try AgileReceipts.events(body: Array(body.utf8)) }
        do {
            _ = try AgileReceipts.events(body: Array(body.utf8))
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test(arguments: [
        ("DELIVERED", DeliveryState?.some(.delivered)), ("delivered", .delivered), ("Failed", .undelivered),
        ("REJECTED", .undelivered), ("expired", .expired), ("SMS_FAILOVER", .fallback), ("queued", .pending),
        ("sent", .pending), ("something-new", .pending), ("unknown", .unknown), ("READ", nil),
    ])
    func v5StatusesMapCaseInsensitively(status: String, state: DeliveryState?) {
        #expect(V5Receipts.state(status: status) == state)
    }

    @Test func v5MatchesByRowFromTheCallbackQueryElseByGUID() throws {
        let body = Array(#"{"messageGUID":"g-1","status":"DELIVERED","timestamp":1700000000000}"#.utf8)
        let byRow = try V5Receipts.events(body: body, campaign: "spring", row: 7)
        #expect(byRow[0].match == .row(campaign: "spring", row: 7, reference: "g-1") && byRow[0].at == 1_700_000_000_000)
        let byGUID = try V5Receipts.events(body: body, campaign: nil, row: nil)
        #expect(byGUID[0].match == .reference("g-1"))
        let read = try V5Receipts.events(body: Array(#"{"messageId":"g-2","status":"read"}"#.utf8), campaign: nil, row: nil)
        #expect(read[0].read && read[0].state == nil)
        #expect(throws: ReceiptParseError.self) { try V5Receipts.events(body: Array(#"{"status":"x"}"#.utf8), campaign: nil, row: nil) }
    }

    @Test(arguments: [
        ("TEXT_DELIVERED", true, "DELIVERED", AWSEventRecords.Reported.state(.delivered)),
        ("TEXT_SUCCESSFUL", true, "SUCCESSFUL", .state(.delivered)),
        ("TEXT_QUEUED", false, "QUEUED", .state(.pending)),
        ("TEXT_PENDING", false, "PENDING", .state(.pending)),
        ("TEXT_BLOCKED", true, "BLOCKED", .state(.undelivered)),
        ("TEXT_CARRIER_UNREACHABLE", true, "CARRIER_UNREACHABLE", .state(.undelivered)),
        ("TEXT_SPAM", true, "SPAM", .state(.undelivered)),
        ("TEXT_TTL_EXPIRED", true, "TTL_EXPIRED", .state(.expired)),
        ("TEXT_UNKNOWN", true, "UNKNOWN", .state(.unknown)),
        ("TEXT_PROTECT_BLOCKED", true, "PROTECT_BLOCKED", .state(.undelivered)),
        ("MEDIA_DELIVERED", true, "DELIVERED", .state(.delivered)),
        ("VOICE_COMPLETED", true, "COMPLETED", .state(.delivered)),
        ("VOICE_BUSY", true, "BUSY", .state(.undelivered)),
        ("RCS_SENT", false, "SENT", .state(.pending)),
        ("RCS_DELIVERED", true, "DELIVERED", .state(.delivered)),
        ("RCS_READ", true, "READ", .read),
        ("RCS_FAILED", true, "FAILED", .state(.undelivered)),
        ("RCS_FALLEN_BACK_TO_SMS", true, "FALLEN_BACK", .state(.fallback)),
        ("RCS_TTL_EXPIRED", true, "TTL_EXPIRED", .state(.expired)),
        ("TEXT_SOMETHING_NEW", false, "PENDING", .state(.pending)),
        ("TEXT_SOMETHING_NEW", true, "DELIVERED", .state(.delivered)),
        ("TEXT_SOMETHING_NEW", true, "REJECTED", .state(.undelivered)),
        ("TEXT_BLOCKED", true, "DELIVERED", .state(.undelivered)),
    ])
    func awsEventTypesMapToDeliveryStates(type: String, isFinal: Bool, status: String, expected: AWSEventRecords.Reported) {
        #expect(AWSEventRecords.state(eventType: type, messageStatus: status, isFinal: isFinal) == expected)
    }

    static func record(_ id: String, row: Int?, type: String = "TEXT_DELIVERED", final: Bool = true) -> String {
        let context = row.map { #","context":{"campaign":"spring","herald_row":"\#($0)","team":"growth"}"# } ?? ""
        return #"{"eventType":"\#(type)","eventVersion":"1.0","eventTimestamp":1700000000123,"isFinal":\#(final),"originationPhoneNumber":"+15550100","destinationPhoneNumber":"+447700900123","messageId":"\#(id)","messageStatus":"DELIVERED","messageStatusDescription":"Message has been accepted by phone","totalMessageParts":1,"totalMessagePrice":0.00581,"totalCarrierFee":0.00025\#(context)}"#
    }

    func read(_ data: [UInt8]) throws -> [DeliveryEvent] {
        var events: [DeliveryEvent] = []
        try AWSEventRecords.read(data) { events.append($0) }
        return events
    }

    /// Each record says which channel it is about (its type's prefix): a row that fell back from
    /// RCS to SMS takes no more RCS events.
    @Test func awsRecordsNameTheirChannel() throws {
        let events = try read(Array([("TEXT_DELIVERED", 2), ("MEDIA_DELIVERED", 3), ("VOICE_COMPLETED", 4), ("RCS_FAILED", 5),
                                     ("OTHER_THING", 6)].map { Self.record("m-\($0.1)", row: $0.1, type: $0.0) }.joined().utf8))
        #expect(events.map(\.channel) == [.sms, .mms, .voice, .rcs, nil])
        #expect(AWSEventRecords.rcsFailure.types == ["RCS_FAILED", "RCS_TTL_EXPIRED"] && AWSEventRecords.rcsFailure.source == .aws)
    }

    @Test func awsRecordsAreReadPerLineConcatenatedAndGzipped() throws {
        let records = [Self.record("m-1", row: 2), Self.record("m-2", row: nil), Self.record("m-3", row: 4, type: "TEXT_QUEUED", final: false)]
        let lines = try read(Array(records.joined(separator: "\n").utf8))
        let joined = try read(Array(records.joined().utf8))
        #expect(lines == joined && lines.count == 3)
        #expect(lines[0].match == .row(campaign: "spring", row: 2, reference: "m-1"))
        #expect(lines[1].match == .reference("m-2"))
        #expect(lines[0].price == Money("0.00606") && lines[0].at == 1_700_000_000_123 && lines[2].state == .pending)
        #expect(lines[0].raw == records[0])
        // gzip, as Firehose writes to S3; two gzip members joined (files concatenated).
        let gzipped = try gzip(Array(records.joined().utf8))
        #expect(try read(gzipped) == lines)
        #expect(try read(gzipped + (try gzip(Array(records[0].utf8)))).count == 4)
    }

    @Test func largeFilesAreReadInChunksWithRecordsAcrossChunkEdges() throws {
        // About 3 MiB: records straddle the 1 MiB read chunks and the inflater's buffers.
        let records = (0..<6000).map { Self.record("m-\($0)", row: $0 + 2) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-big-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain.json")
        try Data(records.joined().utf8).write(to: plain)
        let zipped = folder.appendingPathComponent("zipped.json.gz")
        try Data(try gzip(Array(records.joined(separator: "\n").utf8))).write(to: zipped)
        for file in [plain, zipped] {
            var rows: [Int] = []
            try AWSEventRecords.read(file: file.path) { event in
                if case .row(_, let row, _) = event.match { rows.append(row) }
            }
            #expect(rows == Array(2..<6002), "\(file.lastPathComponent)")
        }
    }

    /// Issue 21, finding 2: with a place to put rejections, a bad record is passed over
    /// (named, with its reason) and the good ones around it are read.
    @Test func badRecordsArePassedOverWithTheirReasons() throws {
        let bad = [
            #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":9e18}"#,
            #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":1e999}"#,
            #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":-9223372036854775808}"#,
            #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":"9999-01-01T00:00:00Z"}"#,
            "not json at all",
            #"{"eventType": "TEXT_DELIVERED", "messageId": "#,
            "{}",
        ]
        var lines: [String] = []
        for (index, line) in bad.enumerated() {
            lines.append(Self.record("m-\(index)", row: index + 2))
            lines.append(line)
        }
        lines.append(Self.record("m-last", row: 99))
        let bytes = Array(lines.joined(separator: "\n").utf8)
        for data in [bytes, try gzip(bytes)] {
            var rows: [Int] = []
            var rejected: [AWSEventRecords.Rejection] = []
            try AWSEventRecords.read(data, rejected: { rejected.append($0) }) { event in
                if case .row(_, let row, _) = event.match { rows.append(row) }
            }
            #expect(rows == [2, 3, 4, 5, 6, 7, 8, 99])
            #expect(rejected.count == bad.count, "\(rejected)")
            #expect(rejected.first?.position == "record 2 (byte \(Self.record("m-0", row: 2).utf8.count + 1))")
            #expect(rejected.prefix(4).allSatisfy { $0.reason.contains("eventTimestamp") }, "\(rejected)")
            #expect(rejected.map(\.reason).suffix(3) == ["not a JSON object", "not valid JSON", "the record has no \"eventType\""])
        }
    }

    @Test func brokenFilesNameWhereTheyBreak() throws {
        let good = Self.record("m-1", row: 2)
        #expect(throws: ReceiptParseError("record 2 (byte \(good.utf8.count + 1)) is not valid JSON")) {
            try read(Array((good + "\n{\"eventType\": ").utf8))
        }
        #expect(throws: ReceiptParseError("record 1: the record has no \"eventType\"")) { try read(Array("{}".utf8)) }
        let gzipped = try gzip(Array(good.utf8))
        #expect(throws: ReceiptParseError.self) { try read(Array(gzipped.prefix(gzipped.count - 9))) }
        var corrupt = gzipped
        corrupt[20] ^= 0xFF
        #expect(throws: ReceiptParseError.self) { try read(corrupt) }
    }

    func gzip(_ data: [UInt8]) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("events")
        try Data(data).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-n", file.path]
        try process.run()
        process.waitUntilExit()
        return Array(try Data(contentsOf: file.appendingPathExtension("gz")))
    }

    @Test func snsStringToSignFollowsTheDocumentedOrder() throws {
        let notification = try SNSMessage(body: Array(#"""
            {"Type":"Notification","MessageId":"id-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Subject":"s",
             "Message":"{\"a\":1}","Timestamp":"2026-01-01T00:00:00.000Z","SignatureVersion":"2","Signature":"AA==",
             "SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"}
            """#.utf8))
        #expect(notification.stringToSign == "Message\n{\"a\":1}\nMessageId\nid-1\nSubject\ns\nTimestamp\n2026-01-01T00:00:00.000Z\n"
            + "TopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nNotification\n")
        let confirmation = try SNSMessage(body: Array(#"""
            {"Type":"SubscriptionConfirmation","MessageId":"id-2","TopicArn":"t","Message":"m","Timestamp":"ts","SignatureVersion":"1",
             "Signature":"AA==","SigningCertURL":"u","Token":"tok","SubscribeURL":"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"}
            """#.utf8))
        #expect(confirmation.stringToSign == "Message\nm\nMessageId\nid-2\nSubscribeURL\nhttps://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription\n"
            + "Timestamp\nts\nToken\ntok\nTopicArn\nt\nType\nSubscriptionConfirmation\n")
    }

    @Test(arguments: [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", true),
        ("https://sns.cn-north-1.amazonaws.com.cn/x.pem", true),
        ("http://sns.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns.us-east-1.amazonaws.com.evil.example/x.pem", false),
        ("https://evil.example/sns.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns.us-east-1.amazonaws.com:8443/x.pem", false),
        ("https://user@sns.us-east-1.amazonaws.com/x.pem", false),
        ("https://s3.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns..amazonaws.com/x.pem", false),
    ])
    func onlySNSHostsAreTrustedForCertificates(url: String, allowed: Bool) {
        #expect(SNSMessage.isSNSURL(url) == allowed)
    }

    /// Times outside 2000-2100 (or not numbers at all) are refused where they are parsed,
    /// for every provider: such an event is never recorded, so no reader meets it later.
    @Test(arguments: [
        #"{"messageGUID":"g","status":"DELIVERED","timestamp":9e18}"#,
        #"{"messageGUID":"g","status":"DELIVERED","timestamp":-9.2e18}"#,
        #"{"messageGUID":"g","status":"DELIVERED","eventDate":"1969-12-31T23:59:59Z"}"#,
        #"{"messageGUID":"g","status":"DELIVERED","timestamp":1e999}"#,
    ])
    func v5TimesOutOfRangeAreRefused(_ body: String) {
        #expect(throws: ReceiptParseError.self) { try V5Receipts.events(body: Array(body.utf8), campaign: nil, row: nil) }
    }

    @Test(arguments: [
        #"{"eventType":"DELIVERY","messageId":"a","statusCode":3,"eventDate":9223372036854775807}"#,
        #"{"eventType":"DELIVERY","messageId":"a","statusCode":3,"eventDate":1e999}"#,
        #"{"eventType":"READ","messageId":"a","receivedDate":"2300-01-01T00:00:00Z"}"#,
    ])
    func agileTimesOutOfRangeAreRefused(_ body: String) {
        #expect(throws: ReceiptParseError.self) { try AgileReceipts.events(body: Array(body.utf8)) }
    }

    @Test(arguments: [
        #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":-9223372036854775808}"#,
        #"{"eventType":"TEXT_DELIVERED","messageId":"m","eventTimestamp":9e18}"#,
    ])
    func awsTimesOutOfRangeAreRefused(_ body: String) {
        #expect(throws: (any Error).self) { try AWSEventRecords.read(Array(body.utf8)) { _ in } }
    }

    @Test func timesInRangeAreReadAndUnreadableStringsLeaveTheArrivalTime() throws {
        let v5 = try V5Receipts.events(body: Array(#"{"messageGUID":"g","status":"DELIVERED","timestamp":1764496800000}"#.utf8), campaign: nil, row: nil)
        #expect(v5.first?.at == 1_764_496_800_000)
        let odd = try AgileReceipts.events(body: Array(#"{"eventType":"READ","messageId":"a","eventDate":"yesterday"}"#.utf8))
        #expect(odd.first?.at == nil)
        #expect(JSONTree.eventTimes.contains(946_684_800_000) && !JSONTree.eventTimes.contains(4_102_444_800_001))
    }
}
