import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization
import VEMBus
import VEMProtocol
import VEMTrust

/// How one connection attempt of a ``HubClient`` ended.
final class ConnectionOutcome: Sendable {
    struct State {
        var admitted = false
        var reject: Reject?
        var reason: String?
    }
    let state = Mutex(State())
}

/// The Client's end of one TCP connection, confined to its event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let engine: ClientEngine
    let outcome: ConnectionOutcome
    let logger: Logger
    /// With TLS, nothing is sent (not even the hello) until the handshake verified the Manager.
    private var awaitingHandshake: Bool
    private var handshakeDeadline: Scheduled<Void>?
    private let handshakeTimeout: Duration
    private var context: ChannelHandlerContext?
    private var link: HubClientLink?
    private var encoder: FrameEncoder
    private var frames: InboundFrames
    private var liveness: Liveness
    private var timer: RepeatedTask?
    private var closeReason: String?
    private var inRead = false
    private var flushPending = false

    init(engine: ClientEngine, configuration: HubClientConfiguration, outcome: ConnectionOutcome, logger: Logger) {
        self.engine = engine
        self.outcome = outcome
        self.logger = logger
        awaitingHandshake = configuration.tls != nil
        handshakeTimeout = configuration.connectTimeout
        encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        frames = InboundFrames(maximumFrameSize: configuration.maximumFrameSize)
        liveness = Liveness(
            intervalNanoseconds: configuration.heartbeatInterval.nanoseconds,
            now: Int64(NIODeadline.now().uptimeNanoseconds))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        link = HubClientLink(eventLoop: context.eventLoop, handler: self)
        if awaitingHandshake {
            // A peer that never completes the handshake (a plain TCP server waiting for a hello) is left.
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let timeout = handshakeTimeout
            handshakeDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                bound.value.handshakeDeadlinePassed(timeout)
            }
        }
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, !awaitingHandshake, let link else { return }
        scheduleTimer(context: context)
        engine.linkOpened(link)
    }

    private func scheduleTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        let period = TimeAmount.nanoseconds(liveness.checkPeriodNanoseconds)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.tick()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeReason == nil else { return }
        var messages: [Message] = []
        var failure: ProtocolError?
        do throws(ProtocolError) {
            try frames.feed(Self.unwrapInboundIn(data), into: &messages)
        } catch {
            failure = error
        }
        liveness.didRead(now: Int64(NIODeadline.now().uptimeNanoseconds))
        inRead = true
        for message in messages {
            guard closeReason == nil, let link else { break }
            handle(message, link: link, context: context)
        }
        if let failure { close(reason: failure.description) }
    }

    private func handle(_ message: Message, link: HubClientLink, context: ChannelHandlerContext) {
        if case .welcome(let welcome) = message {
            outcome.state.withLock { $0.admitted = true }
            let interval = Int64(clamping: welcome.heartbeatIntervalMilliseconds) * 1_000_000
            if interval > 0 && interval != liveness.intervalNanoseconds {
                liveness.intervalNanoseconds = interval
                scheduleTimer(context: context)
            }
        }
        switch engine.handle(message, on: link) {
        case .proceed:
            break
        case .rejected(let reject):
            outcome.state.withLock { $0.reject = reject }
            close(reason: "rejected: \(reject.reason)")
        case .close(let reason):
            close(reason: reason)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if awaitingHandshake {
            logger.warning(
                "the manager was not verified: no hello sent",
                metadata: ["reason": "\(error)", "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        }
        close(reason: "transport error: \(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if awaitingHandshake, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            verifiedManager(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func handshakeDeadlinePassed(_ timeout: Duration) {
        guard awaitingHandshake, closeReason == nil else { return }
        logger.warning(
            "the manager was not verified: no hello sent", metadata: ["reason": "no TLS handshake within \(timeout)"])
        close(reason: "no TLS handshake within \(timeout)")
    }

    /// The handshake verified the chain against the site CA and the name dialled; the certificate must also
    /// carry the role `manager` (a Client's certificate from the same CA is no Manager's). Then the hello goes.
    private func verifiedManager(context: ChannelHandlerContext) {
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        let identity = certificate.flatMap { try? TLSContexts.identity(of: $0) }
        guard let identity, identity.role == .manager else {
            let what = identity.map { "a \($0.role) certificate (\($0.name))" } ?? "no VEM certificate"
            logger.warning("the manager was not verified: no hello sent", metadata: ["reason": "it presented \(what)"])
            return close(reason: "the peer presented \(what), not a manager's")
        }
        awaitingHandshake = false
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
        // The handshake's bytes were the Manager's (they never reach this handler): silence counts from here, so
        // a slow handshake is not taken for a silent Manager at the first check after it.
        liveness.didRead(now: Int64(NIODeadline.now().uptimeNanoseconds))
        start(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
        if closeReason == nil {
            do throws(ProtocolError) { try frames.finish() } catch { closeReason = error.description }
        }
        let reason = closeReason ?? "connection closed by the manager"
        outcome.state.withLock { $0.reason = reason }
        if let link {
            engine.linkClosed(link, reason: reason)
            link.detach()
        }
        link = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func write(_ messages: [Message]) {
        guard closeReason == nil, let context else { return }
        let (buffer, _) = encoder.encode(messages, allocator: context.channel.allocator)
        guard buffer.readableBytes > 0 else { return }
        liveness.didWrite(now: Int64(NIODeadline.now().uptimeNanoseconds))
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
        if inRead { flushPending = true } else { context.flush() }
    }

    func close(reason: String) {
        guard closeReason == nil, let context else { return }
        closeReason = reason
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(promise: nil)
    }

    private func tick() {
        guard closeReason == nil else { return }
        switch liveness.tick(now: Int64(NIODeadline.now().uptimeNanoseconds)) {
        case .none: break
        case .sendHeartbeat: write([.heartbeat(Heartbeat())])
        case .timeout: close(reason: "heartbeat timeout")
        }
    }
}

/// The Client engine's handle on one connection: safe from any thread.
final class HubClientLink: ClientLink {
    private let handler: LoopHandle<ClientConnectionHandler>

    init(eventLoop: any EventLoop, handler: ClientConnectionHandler) {
        self.handler = LoopHandle(handler, eventLoop: eventLoop)
    }

    func transmit(_ messages: [Message]) { handler.run { $0.write(messages) } }

    func close(reason: String) { handler.run { $0.close(reason: reason) } }

    func detach() { handler.detach() }
}
