import Foundation
import HeraldTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `herald receipts serve`, the real binary over loopback: Agile and v5 callbacks
/// move rows' delivery states; hostile clients change nothing.
@Suite(.serialized) struct ReceiptServerTests {
    /// An RCS campaign of `count` rows sent through a loopback Agile server; returns the
    /// messageId Agile got for each destination.
    func sentAgileCampaign(_ fixture: CLIFixture, count: Int) async throws -> [String: String] {
        let ids = Mutex<[String: String]>([:])
        let server = try await LoopbackServer { request in
            let json = request.json
            ids.withLock { $0[json["destination"] as? String ?? ""] = json["messageId"] as? String ?? "" }
            return .respond(status: 200, body: #"{"messageId":"x","results":{"rcs":{"accepted":true,"reasons":[]},"sms":null}}"#)
        }
        try writeRCSCampaign(fixture, id: "agile", rows: count,
                             provider: "{kind: agile, endpoint: \"\(server.url)\", agent_id: 7, enable_notification: true}")
        let result = try HeraldProcess.run(["run", "agile.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                           environment: ["AGILE_API_KEY": "test-key-not-a-secret"])
        try await server.shutdown()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        return ids.withLock { $0 }
    }

    /// An RCS text campaign `ID.yaml` of `rows` recipients through `provider`.
    func writeRCSCampaign(_ fixture: CLIFixture, id: String, rows: Int, provider: String) throws {
        try fixture.write("recipients.csv", "phone,name,code\n" + CLIFixture.rows(rows).map(\.line).joined(separator: "\n") + "\n")
        try fixture.write("template.yaml", """
            id: t
            channel: rcs
            variables: {name: {type: string, required: true}, code: {type: string, required: true}}
            rcs: {text: "Hi <name>, your code is <code>"}
            """)
        try fixture.write("\(id).yaml", "id: \(id)\ntemplate: template.yaml\nrecipients: recipients.csv\nprovider: \(provider)\n")
    }

    func delivery(_ fixture: CLIFixture, _ campaign: String) throws -> [String: Any] {
        let status = try HeraldProcess.run(["status", campaign, "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return object?["delivery"] as? [String: Any] ?? [:]
    }

    @Test func agileCallbacksInAnyOrderSettleOnceAndUnknownIdsAreKept() async throws {
        let fixture = try CLIFixture()
        let ids = try await sentAgileCampaign(fixture, count: 4)
        let phones = CLIFixture.rows(4).map(\.phone)
        let first = try #require(ids[phones[0]]), second = try #require(ids[phones[1]]), third = try #require(ids[phones[2]])
        let server = try ReceiptServerProcess(fixture)
        func event(_ type: String, _ id: String, _ extra: String = "") -> String {
            #"{"channel":"RCS","eventType":"\#(type)","messageId":"\#(id)","destination":"+447700900123"\#(extra),"eventDate":"2026-11-30T10:00:00Z"}"#
        }
        // READ before DELIVERY, the DELIVERY twice, then a late non-final event.
        #expect(server.post("agile", event("READ", first))?.status == 204)
        #expect(server.post("agile", event("DELIVERY", first, #","statusCode":3,"description":"delivered""#))?.status == 204)
        #expect(server.post("agile", event("DELIVERY", first, #","statusCode":3"#))?.status == 204)
        #expect(server.post("agile", event("QUEUED", first))?.status == 204)
        // Undeliverable, then a delivered that must not overturn it; a batch in one body.
        #expect(server.post("agile", "[" + event("DELIVERY", second, #","statusCode":6,"description":"undeliverable""#) + ","
            + event("DELIVERY", second, #","statusCode":3"#) + "," + event("DELIVERY", third, #","statusCode":3"#) + "]")?.status == 204)
        #expect(server.post("agile", event("DELIVERY", "not-ours", #","statusCode":3"#))?.status == 204)
        #expect(server.post("agile", event("INBOUND", "in-1"))?.status == 204)
        let stopped = server.stop()
        #expect(stopped.stdout.contains("7 matched, 2 unmatched"), "\(stopped.stdout)\n\(stopped.stderr)")
        let delivery = try delivery(fixture, "agile")
        #expect(delivery["delivered"] as? Int == 2 && delivery["undelivered"] as? Int == 1 && delivery["read"] as? Int == 1)
        #expect(delivery["undelivered_by_code"] as? [String: Int] == ["6": 1])
        #expect(delivery["waiting_for_receipt"] as? Int == 1)
        let all = try HeraldProcess.run(["status", "--json", "--journal", "journal.sqlite"], in: fixture.folder)
        let unmatched = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["unmatched_receipts"]
        #expect(unmatched as? [String: Int] == ["agile": 2], "\(all.stdout)")
        let text = try HeraldProcess.run(["status", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(text.stdout.contains("receipts matching no message: agile 2"), "\(text.stdout)")
        let doctor = try HeraldProcess.run(["doctor", "agile", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(doctor.status == 0, "\(doctor.stdout)")
        #expect(!stopped.stdout.contains(first) && !stopped.stderr.contains(server.token), "no ids or tokens in the output")
    }

    @Test func v5CallbacksFindTheirRowByGUIDOrByTheCallbackQuery() async throws {
        let fixture = try CLIFixture()
        let seen = Mutex<[String]>([])
        let api = try await LoopbackServer { request in
            let json = request.json
            seen.withLock { $0.append(json["callbackURL"] as? String ?? "") }
            let guid = "guid-\(json["destination"] as? String ?? "")"
            return .respond(status: 200, body: #"{"data":{"results":[{"messageGUID":"\#(guid)","status":"success"}]}}"#)
        }
        let rows = CLIFixture.rows(3)
        try writeRCSCampaign(fixture, id: "v5c", rows: 3, provider: "{kind: v5, endpoint: \"\(api.url)\", source: herald}")
        // The callback URL comes from the journal's base URL and token.
        let server = try ReceiptServerProcess(fixture)
        let run = try HeraldProcess.run(["run", "v5c.yaml", "--journal", "journal.sqlite"], in: fixture.folder,
                                        environment: ["V5_USERNAME": "u", "V5_PASSWORD": "p"])
        try await api.shutdown()
        #expect(run.status == 0 && run.stdout.contains("3 sent"), "\(run.stdout)\n\(run.stderr)")
        let callbacks = seen.withLock { $0 }
        #expect(callbacks.count == 3 && callbacks.allSatisfy {
            $0.hasPrefix("https://receipts.example/receipts/v5/\(server.token)?herald_campaign=v5c&herald_row=")
        }, "\(callbacks)")
        let digits = rows.map { String($0.phone.dropFirst()) }
        #expect(server.post("v5", #"{"messageGUID":"guid-\#(digits[0])","status":"DELIVERED"}"#)?.status == 204)
        #expect(server.post("v5", #"{"messageId":"unknown-guid","status":"Undelivered","errorCode":"E42"}"#,
                            query: "?herald_campaign=v5c&herald_row=3")?.status == 204)
        #expect(server.post("v5", #"{"messageGUID":"guid-\#(digits[2])","status":"Something-New"}"#)?.status == 204)
        #expect(server.post("v5", #"{"status":"DELIVERED"}"#)?.status == 400)
        // A time no provider sends (it once made every later report trap): refused, nothing recorded.
        #expect(server.post("v5", #"{"messageGUID":"guid-\#(digits[1])","status":"DELIVERED","timestamp":9e18}"#)?.status == 400)
        // A code that would clear the terminal and forge a line of `herald status` (finding 6).
        #expect(server.post("v5", #"{"messageGUID":"guid-\#(digits[2])","status":"failed","errorCode":"\u001b[2J\nforged: all delivered"}"#)?
            .status == 204)
        _ = server.stop()
        let delivery = try delivery(fixture, "v5c")
        #expect(delivery["delivered"] as? Int == 1 && delivery["undelivered"] as? Int == 2)
        #expect(delivery["undelivered_by_code"] as? [String: Int] == ["E42": 1, "\u{1B}[2J\nforged: all delivered": 1]
                && delivery["waiting_for_receipt"] as? Int == 0, "\(delivery)")
        let human = try HeraldProcess.run(["status", "v5c", "--journal", "journal.sqlite"], in: fixture.folder)
        #expect(human.status == 0 && !human.stdout.contains("\u{1B}") && !human.stdout.contains("\nforged"), "\(human.stdout)")
        #expect(human.stdout.contains("\\u001b[2J\\u000aforged: all delivered 1"), "shown escaped: \(human.stdout)")
    }

    @Test func theWorkerServesReceiptsToo() async throws {
        let fixture = try CLIFixture()
        let ids = try await sentAgileCampaign(fixture, count: 2)
        let worker = try ReceiptServerProcess(fixture, worker: true)
        let id = try #require(ids[CLIFixture.rows(2)[0].phone])
        #expect(worker.post("agile", #"{"eventType":"DELIVERY","messageId":"\#(id)","statusCode":3}"#)?.status == 204)
        let stopped = worker.stop()
        #expect(stopped.status == 0 && stopped.stdout.contains("1 matched, 0 unmatched"), "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(try delivery(fixture, "agile")["delivered"] as? Int == 1)
    }

    @Test func hostileClientsGetErrorsAndChangeNothing() async throws {
        let fixture = try CLIFixture()
        _ = try await sentAgileCampaign(fixture, count: 2)
        let server = try ReceiptServerProcess(fixture, arguments: ["--read-timeout", "1"])
        defer { _ = server.stop() }
        let valid = #"{"eventType":"DELIVERY","messageId":"m","statusCode":3}"#
        #expect(RawHTTP.request(port: server.port, method: "GET", path: "/healthz")?.status == 200)
        #expect(server.post("agile", valid, token: (server.token.first == "a" ? "b" : "a") + server.token.dropFirst())?.status == 404, "a wrong token is unknown")
        #expect(server.post("agile", valid, token: String(server.token.dropLast()))?.status == 404)
        #expect(server.post("nobody", valid)?.status == 404, "an unknown provider")
        #expect(server.post("agile", String(repeating: " ", count: 300 * 1024) + valid)?.status == 413)
        // Chunked, with no length announced: cut off at 256 KiB all the same.
        let chunked = RawHTTP.connect(port: server.port)
        let chunk = String(repeating: " ", count: 64 * 1024)
        var upload = "POST /receipts/agile/\(server.token) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        for _ in 0..<5 { upload += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
        RawHTTP.write(chunked, Array((upload + "0\r\n\r\n").utf8))
        #expect(RawHTTP.readAll(chunked).flatMap(RawHTTP.parse)?.status == 413)
        close(chunked)
        #expect(server.post("agile", #"{"eventType":"DELIVERY","messageId":"m","statusCode":3"#)?.status == 400)
        #expect(server.post("agile", "[{\"eventType\":\"DELIVERY\",\"messageId\":\"m\"},7]")?.status == 400)
        #expect(server.post("sns", valid)?.status == 400)
        // A body announced larger than sent, trickled: dropped by the read timeout.
        let slow = RawHTTP.connect(port: server.port)
        #expect(slow >= 0)
        let started = Date()
        let head = "POST /receipts/agile/\(server.token) HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"
        var dropped = false
        for byte in Array(head.utf8) + Array(valid.utf8) {
            if !RawHTTP.write(slow, [byte]) { dropped = true; break }
            usleep(250_000)
            if Date().timeIntervalSince(started) > 8 { break }
            var probe = pollfd(fd: slow, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 0) > 0 { dropped = true; break }  // closed (or answered) by the server
        }
        close(slow)
        #expect(dropped && Date().timeIntervalSince(started) < 5, "a client sending a byte every 250 ms is dropped within the timeout")
        // Still serving, and nothing was recorded by any of these.
        #expect(RawHTTP.request(port: server.port, method: "GET", path: "/healthz")?.status == 200)
        let stopped = server.stop()
        #expect(stopped.stdout.contains("0 matched, 0 unmatched"), "\(stopped.stdout)")
    }
}
