import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Closes a connection after the answer to a request that did not ask to keep it: HTTP/1.0
/// without `Connection: keep-alive`, or HTTP/1.1 with `Connection: close` (RFC 9112 §9.3).
/// It sits before Hummingbird's conversion to version-free HTTP types, where the version is
/// still known; `ConnectionClose.installer` puts it there.
final class ConnectionClose: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether each request not yet answered wants the connection closed after it, in order.
    private var closeAfter: [Bool] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { closeAfter.append(!head.isKeepAlive) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where closeAfter.first == true:
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfter.first != nil:
            let close = closeAfter.removeFirst()
            guard close else { return context.write(data, promise: promise) }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }

    /// A handler for `HTTP1Channel.Configuration.additionalChannelHandlers` (which come after
    /// the conversion): once added, it puts a `ConnectionClose` before the conversion and
    /// takes itself out.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
                try? pipeline.addHandler(ConnectionClose(), position: .before(codec))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
