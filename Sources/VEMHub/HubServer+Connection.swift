import Logging
import NIOCore
import VEMBus
import VEMProtocol

/// The Manager's end of one TCP connection, confined to its event loop: decoded messages go to the engine,
/// outbound messages are encoded here, writes are flushed once per read batch, and the heartbeat, backpressure
/// and inbound rate limit are enforced here. Failures close this connection only.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Message
    typealias OutboundOut = ByteBuffer

    let engine: ManagerEngine
    let configuration: HubConfiguration
    let logger: Logger
    let registry: HubServer.LinkRegistry
    private var context: ChannelHandlerContext?
    private(set) var link: HubServerLink?
    private var phase = LinkPhase.awaitingHello
    private var encoder: FrameEncoder
    private var liveness: Liveness
    private var bucket: TokenBucket
    private var timer: RepeatedTask?
    private var closeReason: String?
    private var inRead = false
    private var flushPending = false
    private var bytesWhileUnwritable = 0
    private var readingPaused = false

    init(engine: ManagerEngine, configuration: HubConfiguration, logger: Logger, registry: HubServer.LinkRegistry) {
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        let now = Int64(NIODeadline.now().uptimeNanoseconds)
        liveness = Liveness(intervalNanoseconds: configuration.engine.heartbeatInterval.nanoseconds, now: now)
        bucket = TokenBucket(
            ratePerSecond: configuration.inboundMessagesPerSecond, burst: configuration.inboundBurst, now: now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        let link = HubServerLink(peer: peer, eventLoop: context.eventLoop, handler: self)
        self.link = link
        registry.add(link)
        let period = TimeAmount.nanoseconds(liveness.checkPeriodNanoseconds)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.tick()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = Self.unwrapInboundIn(data)
        guard closeReason == nil, let link else { return }
        liveness.noteRead()
        if !bucket.take(now: Int64(NIODeadline.now().uptimeNanoseconds)) { pauseReading(context: context) }
        inRead = true
        if case .close(let reason) = engine.handle(message, phase: &phase, link: link) {
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
        let reason = (error as? ProtocolError)?.description ?? "transport error: \(error)"
        close(reason: reason)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { bytesWhileUnwritable = 0 }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let link {
            engine.linkClosed(phase: &phase, link: link, reason: closeReason ?? "connection closed by peer")
            registry.remove(link)
            link.detach()
        }
        link = nil
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: Outbound (on the event loop)

    /// Encodes and writes messages; flushed now, or at the end of the read batch.
    func write(_ messages: [Message]) {
        guard closeReason == nil, let context else { return }
        let (buffer, skipped) = encoder.encode(messages, allocator: context.channel.allocator)
        if skipped > 0 { logger.warning("dropped outbound messages larger than the maximum frame size") }
        guard buffer.readableBytes > 0 else { return }
        write(buffer: buffer, context: context)
        if inRead { flushPending = true } else { context.flush() }
    }

    /// Writes a frame shared by many connections (fan-out) and flushes it.
    func writeShared(_ buffer: ByteBuffer) {
        guard closeReason == nil, let context else { return }
        write(buffer: buffer, context: context)
        if inRead { flushPending = true } else { context.flush() }
    }

    private func write(buffer: ByteBuffer, context: ChannelHandlerContext) {
        if !context.channel.isWritable {
            bytesWhileUnwritable += buffer.readableBytes
            if configuration.highWaterMark + bytesWhileUnwritable > configuration.outboundByteCap {
                close(reason: "slow consumer")
                return
            }
        }
        liveness.noteWrite()
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Closes this connection (once); the reason is reported when it is inactive.
    func close(reason: String) {
        guard closeReason == nil, let context else { return }
        closeReason = reason
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(promise: nil)
    }

    // MARK: Timers

    private func tick() {
        guard closeReason == nil else { return }
        switch liveness.tick(now: Int64(NIODeadline.now().uptimeNanoseconds)) {
        case .none: break
        case .sendHeartbeat: write([.heartbeat(Heartbeat())])
        case .timeout: close(reason: "heartbeat timeout")
        }
    }

    private func pauseReading(context: ChannelHandlerContext) {
        guard !readingPaused else { return }
        readingPaused = true
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(bucket.refillNanoseconds)) {
            bound.value.resumeReading()
        }
    }

    private func resumeReading() {
        readingPaused = false
        guard closeReason == nil, let context else { return }
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        context.read()
    }
}

/// The engine's handle on one connection: safe from any thread (hops to the event loop when needed).
final class HubServerLink: ManagerLink {
    let peer: String
    let eventLoop: any EventLoop
    private let handler: NIOLoopBoundBox<ServerConnectionHandler?>

    init(peer: String, eventLoop: any EventLoop, handler: ServerConnectionHandler) {
        self.peer = peer
        self.eventLoop = eventLoop
        self.handler = NIOLoopBoundBox(handler, eventLoop: eventLoop)
    }

    func transmit(_ messages: [Message]) {
        if eventLoop.inEventLoop {
            handler.value?.write(messages)
        } else {
            eventLoop.execute { self.handler.value?.write(messages) }
        }
    }

    func close(reason: String) {
        if eventLoop.inEventLoop {
            handler.value?.close(reason: reason)
        } else {
            eventLoop.execute { self.handler.value?.close(reason: reason) }
        }
    }

    /// On the event loop: writes a shared frame.
    func writeShared(_ buffer: ByteBuffer) { handler.value?.writeShared(buffer) }

    /// On the event loop: forgets the handler (breaks the reference cycle when the channel closes).
    func detach() { handler.value = nil }
}
