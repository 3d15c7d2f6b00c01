import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization
import VEMBus
import VEMProtocol
import VEMTrust

/// The Manager's end of one TCP connection, confined to its event loop: decoded messages go to the engine,
/// outbound messages are encoded here, writes are flushed once per read batch, and the heartbeat, backpressure
/// and inbound rate limit are enforced here. Failures close this connection only.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let engine: ManagerEngine
    let configuration: HubConfiguration
    let logger: Logger
    let registry: HubServer.LinkRegistry
    let sweepers: LivenessSweepers
    let gate: ConnectionGate
    private var sweeper: LivenessSweeper?
    /// Counted by the gate (released when the connection ends); nil when the gate refused it.
    private var counted = false
    private var refusal: ConnectionLimits.Refusal?
    private var helloDeadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private(set) var link: HubServerLink?
    private var phase = LinkPhase.awaitingHello
    private var encoder: FrameEncoder
    private var frames: InboundFrames
    private var inbox: [Message] = []
    private var handling = false
    private var inactiveWhileHandling = false
    private var liveness: Liveness
    private var bucket: TokenBucket
    private var closeReason: String?
    private var inRead = false
    private var flushPending = false
    private var bytesWhileUnwritable = 0
    private var readingPaused = false

    init(
        engine: ManagerEngine, configuration: HubConfiguration, logger: Logger, registry: HubServer.LinkRegistry,
        sweepers: LivenessSweepers, gate: ConnectionGate
    ) {
        self.gate = gate
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        self.sweepers = sweepers
        encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        frames = InboundFrames(maximumFrameSize: configuration.maximumHelloFrameSize)
        // Set again from the event loop's clock when the handler is added.
        liveness = Liveness(intervalNanoseconds: configuration.engine.heartbeatInterval.nanoseconds, now: 0)
        bucket = TokenBucket(
            ratePerSecond: configuration.inboundMessagesPerSecond, burst: configuration.inboundBurst, now: 0)
    }

    /// The time in nanoseconds, from the connection's event loop: the real monotonic clock on a real loop, the
    /// loop's own time on NIO's testing loops (so a test can step it).
    private static func now(_ eventLoop: any EventLoop) -> Int64 { Int64(eventLoop.now.uptimeNanoseconds) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let now = Self.now(context.eventLoop)
        liveness = Liveness(intervalNanoseconds: configuration.engine.heartbeatInterval.nanoseconds, now: now)
        bucket = TokenBucket(
            ratePerSecond: configuration.inboundMessagesPerSecond, burst: configuration.inboundBurst, now: now)
        let peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        let link = HubServerLink(
            peer: peer, peerAddress: context.channel.remoteAddress?.ipAddress, eventLoop: context.eventLoop,
            handler: self)
        self.link = link
        registry.add(link)
        let sweeper = sweepers.sweeper(for: context.eventLoop)
        sweeper.add(self, period: .nanoseconds(liveness.checkPeriodNanoseconds), on: context.eventLoop)
        self.sweeper = sweeper
        let address = link.peerAddress
        if let refusal = gate.open(address, now: Int64(NIODeadline.now().uptimeNanoseconds)) {
            self.refusal = refusal
            phase = .closed  // not reported to the engine: a flood must not become a flood of events
            if gate.shouldWarn(now: Int64(NIODeadline.now().uptimeNanoseconds)) {
                logger.warning("connections refused", metadata: ["peer": "\(peer)", "reason": "\(refusal)"])
            }
        } else {
            counted = true
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let timeout = configuration.helloTimeout
            helloDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                bound.value.helloDeadlinePassed(timeout)
            }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal {
            closeReason = refusal.description
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    private func helloDeadlinePassed(_ timeout: Duration) {
        helloDeadline = nil
        guard case .awaitingHello = phase else { return }
        close(reason: "no hello within \(timeout)")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeReason == nil, let link else { return }
        var messages = inbox
        inbox = []
        var failure: ProtocolError?
        do throws(ProtocolError) {
            try frames.feed(Self.unwrapInboundIn(data), into: &messages)
        } catch {
            failure = error
        }
        let now = Self.now(context.eventLoop)
        liveness.didRead(now: now)
        inRead = true
        handling = true
        for message in messages {
            guard closeReason == nil, !inactiveWhileHandling else { break }
            if !bucket.take(now: now) { pauseReading(context: context) }
            let wasAwaitingHello: Bool
            if case .awaitingHello = phase { wasAwaitingHello = true } else { wasAwaitingHello = false }
            if case .close(let reason) = engine.handle(message, phase: &phase, link: link) {
                close(reason: reason)
            }
            if wasAwaitingHello, case .active = phase { admitted(link) }
        }
        handling = false
        messages.removeAll(keepingCapacity: true)
        inbox = messages
        if inactiveWhileHandling {
            becameInactive(context: context)
            return
        }
        if let failure { close(reason: failure.description) }
        if closeReason != nil { context.close(promise: nil) }
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
        close(reason: "transport error: \(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { certify(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    /// The TLS handshake verified the peer's chain against the site CA: reads who its certificate names, for the
    /// hello to be checked against. A certificate naming no VEM holder, or a revoked one, ends the connection.
    private func certify(context: ChannelHandlerContext) {
        guard let tls = configuration.tls, let link else { return }
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        guard let certificate else { return close(reason: "no client certificate") }
        do {
            let identity = try TLSContexts.identity(of: certificate)
            // The serial first, then the check: a revocation between the two finds the link by its serial.
            link.noteSerial(identity.serial)
            if tls.revocations.contains(identity.serial) {
                logger.warning(
                    "revoked certificate refused", metadata: ["peer": "\(link.peer)", "certificate": "\(identity)"])
                return close(reason: "certificate \(identity.serial) of \(identity.name) is revoked")
            }
            // The Manager's issuing intermediate signs VM credentials only: below it, only a guest.
            if let root = tls.siteCASubject, identity.issuer != root, identity.role != .domU {
                logger.warning(
                    "certificate from an intermediate refused",
                    metadata: ["peer": "\(link.peer)", "certificate": "\(identity)", "issuer": "\(identity.issuer)"])
                return close(reason: "a certificate issued below the site CA may name a guest (domU) only")
            }
            link.certify(CertifiedPeer(name: identity.name, role: identity.role.rawValue, group: identity.group))
        } catch {
            logger.warning("client certificate refused", metadata: ["peer": "\(link.peer)", "reason": "\(error)"])
            close(reason: "\(error)")
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { bytesWhileUnwritable = 0 }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A failed write inside the engine's `handle` (the peer reset) can close the channel right there; the
        // engine hears of it once `handle` has returned.
        if handling {
            inactiveWhileHandling = true
            return
        }
        becameInactive(context: context)
    }

    /// The hello was accepted: full-size frames from now on, no deadline, failures forgiven.
    private func admitted(_ link: HubServerLink) {
        helloDeadline?.cancel()
        helloDeadline = nil
        frames.maximumFrameSize = configuration.maximumFrameSize
        gate.loginSucceeded(link.peerAddress)
    }

    private func becameInactive(context: ChannelHandlerContext) {
        sweeper?.remove(self)
        sweeper = nil
        helloDeadline?.cancel()
        helloDeadline = nil
        if counted {
            counted = false
            gate.close(link?.peerAddress)
        }
        if closeReason == nil {
            do throws(ProtocolError) { try frames.finish() } catch { closeReason = error.description }
        }
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
        liveness.didWrite(now: Self.now(context.eventLoop))
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Closes this connection (once); the reason is reported when it is inactive. While a read is being handled
    /// the close waits for the end of it, so the engine is never re-entered (through `channelInactive`) from
    /// inside its own `handle`.
    func close(reason: String) {
        guard closeReason == nil, let context else { return }
        closeReason = reason
        if flushPending {
            flushPending = false
            context.flush()
        }
        if !handling { context.close(promise: nil) }
    }

    // MARK: Timers

    /// Called by the loop's ``LivenessSweeper`` every quarter of a heartbeat interval. The heartbeat timeout counts
    /// from the hello's admission: before it, the hello deadline (from the accept) bounds the connection, whatever
    /// its TLS handshake takes — the handshake's bytes never reach this handler, so a slow handshake on a loaded
    /// Manager (thousands of Clients connecting at once) would otherwise look like a silent peer.
    func checkLiveness(now: Int64) {
        guard closeReason == nil else { return }
        switch liveness.tick(now: now) {
        case .none: break
        case .sendHeartbeat: write([.heartbeat(Heartbeat())])
        case .timeout:
            if case .awaitingHello = phase { return }
            close(reason: "heartbeat timeout")
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
    let peerAddress: String?
    private let handler: LoopHandle<ServerConnectionHandler>
    private let certified = Mutex<CertifiedPeer?>(nil)
    private let serialBox = Mutex<String?>(nil)

    /// Who the connection's client certificate names (set once its TLS handshake completed).
    var certifiedPeer: CertifiedPeer? { certified.withLock { $0 } }

    func certify(_ peer: CertifiedPeer) { certified.withLock { $0 = peer } }

    /// The serial number of the connection's client certificate (nil before its handshake, or without TLS).
    var certificateSerial: String? { serialBox.withLock { $0 } }

    func noteSerial(_ serial: String) { serialBox.withLock { $0 = serial } }

    init(peer: String, peerAddress: String?, eventLoop: any EventLoop, handler: ServerConnectionHandler) {
        self.peer = peer
        self.peerAddress = peerAddress
        self.handler = LoopHandle(handler, eventLoop: eventLoop)
    }

    var eventLoop: any EventLoop { handler.eventLoop }

    func transmit(_ messages: [Message]) { handler.run { $0.write(messages) } }

    func close(reason: String) { handler.run { $0.close(reason: reason) } }

    /// On the event loop: writes a shared frame.
    func writeShared(_ buffer: ByteBuffer) { handler.value?.writeShared(buffer) }

    /// On the event loop: forgets the handler (breaks the reference cycle when the channel closes).
    func detach() { handler.detach() }
}
