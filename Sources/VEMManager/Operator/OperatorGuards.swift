import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import NIOTLS
import VEMTrust

/// The operator API's defences that need no credentials: the Host header must name the address it serves (a web
/// page cannot reach it through DNS rebinding), and a request's header must be complete within
/// ``OperatorHTTP/headerTimeout`` of the connection opening or the previous request ending (slow senders cannot
/// hold connections).
enum OperatorGuards {
    /// Whether `authority` (a `Host` header: `host[:port]`) names the API: a loopback name or the bound host.
    /// - Parameters:
    ///   - authority: The request's `Host` (nil: absent, refused).
    ///   - boundHost: The address the API listens on.
    static func hostAllowed(_ authority: String?, boundHost: String) -> Bool {
        guard let authority, !authority.isEmpty else { return false }
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        let name = host.lowercased()
        return name == "localhost" || name == "::1" || name.hasPrefix("127.") || name == boundHost.lowercased()
    }
}

/// Refuses requests whose Host header does not name the API (421 Misdirected Request).
struct HostCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    let boundHost: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let authority = request.head.authority
        guard OperatorGuards.hostAllowed(authority, boundHost: boundHost) else {
            return Response(
                status: .misdirectedRequest, headers: [.contentType: "application/json"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: #"{"error":"the Host header does not name this Manager"}"#)))
        }
        return try await next(request, context)
    }
}

/// Closes a connection whose request header is not complete within a deadline of its opening, or of the end of
/// its previous request.
final class HeaderDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) { arm(context) }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: disarm()
        case .end: arm(context)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        disarm()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

/// With TLS (the API served off loopback), only an operator's certificate may talk to the API: the handshake
/// verified the chain against the site CA; this closes the connection unless the certificate's role is
/// `operator`.
final class OperatorCertificateCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let logger: Logger
    private var verified = false

    init(logger: Logger) { self.logger = logger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing reaches the API before the role was checked.
        guard verified else { return context.close(promise: nil) }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                .peerCertificate
            let identity = certificate.flatMap { try? TLSContexts.identity(of: $0) }
            if let identity, identity.role == .operator {
                verified = true
            } else {
                logger.warning(
                    "operator API: connection refused",
                    metadata: ["reason": "\(identity.map { "a \($0.role) certificate (\($0.name))" } ?? "no VEM certificate")"])
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}
