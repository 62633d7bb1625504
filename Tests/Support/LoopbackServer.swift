import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on 127.0.0.1 (an ephemeral port) for provider tests: records
/// every request and answers as `reply` says, or closes the connection unanswered.
public final class LoopbackServer: Sendable {
    public struct Request: Sendable {
        public let method: String
        public let uri: String
        public let headers: [(String, String)]
        public let body: [UInt8]

        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    public enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: String)
        /// Read the request, then close without answering.
        case close
    }

    final class RequestLog: Sendable {
        let items = Mutex<[Request]>([])
    }

    private let log = RequestLog()
    /// Every request received so far.
    public var requests: [Request] { log.items.withLock { $0 } }
    private let channel: any Channel
    public var port: Int { channel.localAddress!.port! }
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Every connection accepted, so that `kill` can drop them.
    private let connections = Connections()

    final class Connections: Sendable {
        let open = Mutex<[any Channel]>([])
    }

    public init(reply: @escaping @Sendable (Request) -> Reply) async throws {
        let box = UncheckedReply(reply: reply)
        let log = self.log
        let connections = self.connections
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.open.withLock { $0.append(channel) }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(reply: box.reply, record: { request in
                        log.items.withLock { $0.append(request) }
                    }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public func shutdown() async throws {
        try await channel.close()
    }

    /// As a killed process: stops listening (new connections are refused) and drops every
    /// open connection, requests in flight included.
    public func kill() async {
        try? await channel.close()
        for connection in connections.open.withLock({ $0 }) { try? await connection.close() }
    }

    private struct UncheckedReply: Sendable {
        let reply: @Sendable (Request) -> Reply
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let reply: @Sendable (Request) -> Reply
        let record: @Sendable (Request) -> Void
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(reply: @escaping @Sendable (Request) -> Reply, record: @escaping @Sendable (Request) -> Void) {
            self.reply = reply
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                                      body: body)
                record(request)
                switch reply(request) {
                case .close:
                    context.close(promise: nil)
                case .respond(let status, let headers, let text):
                    var responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status))
                    for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
                    responseHead.headers.add(name: "Content-Length", value: String(text.utf8.count))
                    context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
