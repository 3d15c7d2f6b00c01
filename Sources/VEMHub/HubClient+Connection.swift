import Logging
import NIOCore
import Synchronization
import VEMBus
import VEMProtocol

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
    typealias InboundIn = Message
    typealias OutboundOut = ByteBuffer

    let engine: ClientEngine
    let outcome: ConnectionOutcome
    private var context: ChannelHandlerContext?
    private var link: HubClientLink?
    private var encoder: FrameEncoder
    private var liveness: Liveness
    private var timer: RepeatedTask?
    private var closeReason: String?
    private var inRead = false
    private var flushPending = false

    init(engine: ClientEngine, configuration: HubClientConfiguration, outcome: ConnectionOutcome) {
        self.engine = engine
        self.outcome = outcome
        encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        liveness = Liveness(
            intervalNanoseconds: configuration.heartbeatInterval.nanoseconds,
            now: Int64(NIODeadline.now().uptimeNanoseconds))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        link = HubClientLink(eventLoop: context.eventLoop, handler: self)
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, let link else { return }
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
        let message = Self.unwrapInboundIn(data)
        guard closeReason == nil, let link else { return }
        liveness.noteRead()
        inRead = true
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
        close(reason: (error as? ProtocolError)?.description ?? "transport error: \(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
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
        liveness.noteWrite()
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
    let eventLoop: any EventLoop
    private let handler: NIOLoopBoundBox<ClientConnectionHandler?>

    init(eventLoop: any EventLoop, handler: ClientConnectionHandler) {
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

    func detach() { handler.value = nil }
}
