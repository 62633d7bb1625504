import Foundation
import HeraldCore
import HeraldProviders
import NIOCore
import NIOHTTP1
import NIOPosix

/// An in-process HTTP sink on 127.0.0.1 answering every request like SendTextMessage.
final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        let body = #"{"MessageId":"bench"}"#
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// The AWS adapter (SigV4 signing, JSON, AsyncHTTPClient) sending `count` messages
/// with `inFlight` outstanding to the sink.
func awsBench(count: Int, inFlight: Int) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(SinkHandler()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    var configuration = AWSConfiguration()
    configuration.region = "eu-west-1"
    configuration.endpoint = "http://127.0.0.1:\(server.localAddress!.port!)"
    configuration.originationIdentity = "+15550100000"
    let provider = try AWSProvider(
        configuration: configuration,
        environment: AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"]),
        transport: AsyncHTTPClientTransport(maxConnections: inFlight))
    let start = ContinuousClock.now
    let accepted = await withTaskGroup(of: Int.self) { group in
        for worker in 0..<inFlight {
            group.addTask {
                var ok = 0
                var index = worker
                while index < count {
                    let message = OutboundMessage(campaign: "bench", row: index,
                                                  destination: PhoneNumber(digits: 12_025_550_100 + UInt64(index % 100), region: "US"),
                                                  body: "Hi Person \(index), your code is C\(index).", segments: SMSSegments(body: "Hi"))
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
    emit(["figure": "aws_adapter_msgs_per_s", "messages": count, "in_flight": inFlight,
          "value": Int(Double(count) / seconds), "seconds": seconds, "target": ">= 10000"])
    await provider.shutdown()
    try await server.close()
}
