import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VEMTrust

/// One request over HTTPS with the operator's certificate (mutual TLS against the site CA), for the operator API
/// served off loopback: the GETs, the actions' POSTs and `vem ask`'s streamed POST. URLSession cannot present a
/// client certificate on Linux.
enum HTTPSRequest {
    /// Sends `method` to `url` (`https://host:port/path?query`) with `headers` and no body; tells `onBody` of each
    /// part of the answer's body as it arrives (with the answer's status).
    /// - Returns: The status and the whole body.
    /// - Throws: When the connection, the TLS handshake or the answer fails, or no answer ends within `timeout`.
    static func send(
        _ url: URL, method: HTTPMethod = .GET, headers: [(String, String)] = [], files: TLSFiles,
        timeout: TimeAmount = .seconds(10), onBody: (@Sendable (Int, Data) -> Void)? = nil
    ) async throws -> (Int, Data) {
        guard let host = url.host else { throw TrustError("no host in \(url)") }
        let port = url.port ?? 443
        let context = try TLSContexts.client(files)
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: (Int, Data).self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: TLSContexts.serverName(for: host)))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, onBody: onBody))
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        if method != .GET { head.headers.add(name: "Content-Length", value: "0") }
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TrustError("no answer within \(timeout)"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(Int, Data)>
        let onBody: (@Sendable (Int, Data) -> Void)?
        var status = 0
        var body = Data()
        var done = false

        init(promise: EventLoopPromise<(Int, Data)>, onBody: (@Sendable (Int, Data) -> Void)?) {
            (self.promise, self.onBody) = (promise, onBody)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(var buffer):
                let part = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
                body.append(part)
                onBody?(status, part)
            case .end:
                finish(.success((status, body)))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(.failure(error))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(TrustError("the Manager closed the connection (is this certificate an operator's?)")))
        }

        private func finish(_ result: Result<(Int, Data), any Error>) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
        }
    }
}
