import Foundation
import HeraldCore
import HeraldProviders
import NIOCore
import NIOHTTP1
import NIOPosix

/// An in-process HTTP sink on 127.0.0.1 answering every request with `body` (by default
/// as SendTextMessage does).
final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let body: String

    init(body: String = #"{"MessageId":"bench"}"#) { self.body = body }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// A rendered rich card as the journal holds it (the JSON of `RCSContent`).
func rcsCard(_ index: Int) -> String {
    var suggestion = RCSSuggestion(type: .openURL, text: "Open")
    suggestion.url = "https://example.com/c/C\(index)"
    var calendar = RCSSuggestion(type: .calendar, text: "Remind me")
    calendar.title = "Code C\(index)"
    calendar.start = "2030-03-03T15:00:00Z"
    calendar.end = "2030-03-03T16:00:00Z"
    let content = RCSContent(
        card: RCSCard(title: "Hi Person \(index)", description: "Your code is C\(index).",
                      media: RCSMedia(url: "https://example.com/img/C\(index).jpg", height: "MEDIUM"),
                      suggestions: [RCSSuggestion(type: .reply, text: "Use C\(index)"), suggestion, calendar]),
        fallbackSMS: "Hi Person \(index), your code is C\(index).")
    return String(decoding: try! JSONEncoder().encode(content), as: UTF8.self)
}

/// An adapter sending `count` messages with `inFlight` outstanding to a sink answering as the
/// provider does: `aws` (SigV4 signing, JSON), `aws-rcs`, or `twilio` (form encoding, Basic).
func adapterBench(count: Int, inFlight: Int, kind: String) async throws {
    let rcs = kind == "aws-rcs"
    let answer = kind == "twilio" ? #"{"sid":"SM00112233445566778899aabbccddeeff","status":"queued"}"# : #"{"MessageId":"bench"}"#
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(SinkHandler(body: answer)) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let endpoint = "http://127.0.0.1:\(server.localAddress!.port!)"
    let transport = AsyncHTTPClientTransport(maxConnections: inFlight)
    let provider: any MessageProvider
    if kind == "twilio" {
        var configuration = TwilioConfiguration()
        configuration.endpoint = endpoint
        configuration.accountSID = "AC0123456789abcdef0123456789abcdef"
        configuration.from = "+15550100"
        configuration.statusCallback = "https://receipts.example/receipts/twilio/token"
        provider = try TwilioProvider(configuration: configuration, environment: ["TWILIO_AUTH_TOKEN": "not-a-real-token"],
                                      transport: transport)
    } else {
        var configuration = AWSConfiguration()
        configuration.region = "eu-west-1"
        configuration.endpoint = endpoint
        configuration.originationIdentity = "+15550100000"
        configuration.fallbackOriginationIdentity = "+12025550100"
        provider = try AWSProvider(
            configuration: configuration,
            environment: AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"]),
            transport: transport)
    }
    // Bodies as the journal would hand them over, made before the clock starts.
    let cards = rcs ? (0..<1000).map(rcsCard) : []
    let start = ContinuousClock.now
    let accepted = await withTaskGroup(of: Int.self) { group in
        for worker in 0..<inFlight {
            group.addTask {
                var ok = 0
                var index = worker
                while index < count {
                    let destination = PhoneNumber(digits: 12_025_550_100 + UInt64(index % 100), region: "US")
                    let message = rcs
                        ? OutboundMessage(campaign: "bench", row: index, destination: destination, channel: .rcs,
                                          body: cards[index % cards.count], parts: 1)
                        : OutboundMessage(campaign: "bench", row: index, destination: destination,
                                          body: "Hi Person \(index), your code is C\(index).", parts: 1)
                    if case .accepted = await provider.send(message) { ok += 1 }
                    index += inFlight
                }
                return ok
            }
        }
        return await group.reduce(0, +)
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    precondition(accepted == count, "every message accepted")
    emit(["figure": kind.replacingOccurrences(of: "-", with: "_") + "_adapter_msgs_per_s", "messages": count, "in_flight": inFlight,
          "value": Int(Double(count) / seconds), "seconds": seconds, "target": ">= 10000"])
    await provider.shutdown()
    try await server.close()
}
