import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VEMTrust

/// One GET over HTTPS with the operator's certificate (mutual TLS against the site CA), for the operator API
/// served off loopback. URLSession cannot present a client certificate on Linux.
enum HTTPSGet {
    /// GETs `url` (`https://host:port/path?query`); returns the status and the body.
    static func get(_ url: URL, files: TLSFiles, timeout: TimeAmount = .seconds(10)) async throws -> (Int, Data) {
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
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TrustError("no answer within \(timeout)"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }

    final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(Int, Data)>
        var status = 0
        var body = Data()
        var done = false

        init(promise: EventLoopPromise<(Int, Data)>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(var buffer): body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
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
