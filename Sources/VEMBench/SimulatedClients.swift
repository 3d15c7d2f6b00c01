import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import VEMHub
import VEMProtocol
import VEMTrust

/// N simulated Clients in one process on a small event loop group, for `vem bench bus`. In hub mode they speak
/// the real protocol (hello/welcome, a `property` reply to every `get_property`, a result for every command,
/// heartbeats); in echo mode they answer every request frame with a reply frame of the same size as a property
/// reply, for the physical baseline.
public final class SimulatedClients: Sendable {
    /// What the clients speak.
    public enum Mode: String, Sendable {
        /// The VEM protocol.
        case hub
        /// Fixed-size frames, no protocol.
        case echo
    }

    /// Tuning.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var count: Int
        public var token: String
        public var mode: Mode
        public var heartbeatInterval: Duration
        /// Connects in flight at once (keeps the listen backlog from overflowing).
        public var concurrentConnects: Int
        /// Mutual TLS (hub mode): the bench's scratch CA directory (``BenchTrust``); Client `simN` presents
        /// `simN.pem` and verifies the Manager against `ca.pem`. Nil: plain TCP.
        public var tlsDirectory: String?

        /// Creates a configuration.
        public init(
            host: String, port: Int, count: Int, token: String, mode: Mode, heartbeatInterval: Duration = .seconds(5),
            concurrentConnects: Int = 256, tlsDirectory: String? = nil
        ) {
            self.host = host
            self.port = port
            self.count = count
            self.token = token
            self.mode = mode
            self.heartbeatInterval = heartbeatInterval
            self.concurrentConnects = max(1, concurrentConnects)
            self.tlsDirectory = tlsDirectory
        }
    }

    let configuration: Configuration
    let group: any EventLoopGroup
    private let channels = Mutex<[any Channel]>([])
    private let handlers = Mutex<[NIOLoopBound<SimulatedClientHandler>]>([])

    /// Creates the clients (not yet connected).
    public init(configuration: Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Connects every client; in hub mode, returns once every one was welcomed.
    public func connectAll() async throws {
        try await inBatches(configuration.count, width: configuration.concurrentConnects) { try await self.connect(index: $0) }
    }

    private func connect(index: Int) async throws {
        let configuration = configuration
        let ready = group.any().makePromise(of: Void.self)
        // Each Client its own context: its own certificate and key, as a real Client loads them.
        let tls = try configuration.tlsDirectory.map {
            try TLSContexts.client(BenchTrust.files(in: $0, name: "sim\(index)"))
        }
        let channel = try await ClientBootstrap(group: ready.futureResult.eventLoop)
            // NIO's default 10 s is too short for 10,000 connects from one loop on a loaded machine.
            .connectTimeout(.seconds(60))
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard configuration.mode == .hub else {
                        return try channel.pipeline.syncOperations.addHandler(EchoClientHandler())
                    }
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: tls, serverHostname: TLSContexts.serverName(for: configuration.host)))
                    }
                    let handler = SimulatedClientHandler(
                        name: "sim\(index)", configuration: configuration, ready: ready)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self.handlers.withLock { $0.append(NIOLoopBound(handler, eventLoop: channel.eventLoop)) }
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        channels.withLock { $0.append(channel) }
        if configuration.mode == .echo { ready.succeed() }
        try await ready.futureResult.get()
    }

    /// Pushes unsolicited `property` messages from up to `senders` clients, `burst` frames per write, for
    /// `duration`, as fast as each connection accepts them.
    public func ingest(burst: Int, duration: Duration, senders: Int) async throws {
        let frames = BenchFrames.buffer(BenchFrames.propertyReport(requestID: 0), count: burst)
        let deadline = NIODeadline.now() + .nanoseconds(duration.nanoseconds)
        let chosen = handlers.withLock { Array($0.prefix(senders)) }
        var futures: [EventLoopFuture<Void>] = []
        for bound in chosen {
            let promise = bound.eventLoop.makePromise(of: Void.self)
            bound.eventLoop.execute { bound.value.startPumping(frames, until: deadline, done: promise) }
            futures.append(promise.futureResult)
        }
        for future in futures { try await future.get() }
    }

    /// Closes every connection.
    public func closeAll() async {
        for channel in channels.withLock({ $0 }) { try? await channel.close() }
    }
}

/// One simulated Client, on its event loop.
final class SimulatedClientHandler: ChannelInboundHandler, FrameWritingHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let name: String
    let configuration: SimulatedClients.Configuration
    let ready: EventLoopPromise<Void>
    var context: ChannelHandlerContext?
    var output = FrameOutput()
    private var frames = InboundFrames(maximumFrameSize: WireFormat.defaultMaximumFrameSize)
    private var inbox: [Message] = []
    private var timer: RepeatedTask?
    private var pump: (frames: ByteBuffer, deadline: NIODeadline, done: EventLoopPromise<Void>)?

    init(name: String, configuration: SimulatedClients.Configuration, ready: EventLoopPromise<Void>) {
        self.name = name
        self.configuration = configuration
        self.ready = ready
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        // A guest of group `bench` (the group its certificate names with TLS; the same hello without).
        send(
            .hello(
                Hello(
                    name: name, role: .domU, host: "bench", group: BenchTrust.group, version: "1.0.0", incarnation: 1,
                    token: configuration.token)))
        flush()
        let period = TimeAmount.nanoseconds(configuration.heartbeatInterval.nanoseconds / 2)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.heartbeatIfIdle()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var messages = inbox
        inbox = []
        do throws(ProtocolError) {
            try frames.feed(Self.unwrapInboundIn(data), into: &messages)
        } catch {
            context.close(promise: nil)
            return
        }
        for message in messages { handle(message, context: context) }
        messages.removeAll(keepingCapacity: true)
        inbox = messages
    }

    private func handle(_ message: Message, context: ChannelHandlerContext) {
        switch message {
        case .welcome:
            settle(nil)
        case .reject(let reject):
            settle(RejectedError(reason: reject.reason))
        case .getProperty(let request):
            // Every simulated Client answers a round with the same bytes: encode once per request id and loop.
            write(ReplyCache.forCurrentThread.frame(for: request.requestID))
        case .command(let command):
            send(.commandAck(CommandAck(through: command.seq)))
            send(.commandResult(CommandResult(seq: command.seq, status: .ok)))
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pumpOnce() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        settle(ClosedError())
        pump?.done.succeed()
        pump = nil
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func startPumping(_ frames: ByteBuffer, until deadline: NIODeadline, done: EventLoopPromise<Void>) {
        pump = (frames, deadline, done)
        pumpOnce()
    }

    /// One burst per loop turn while writable, so every sender (and the replies) get their share of the loop.
    private func pumpOnce() {
        guard let pump, let context else { return }
        guard NIODeadline.now() < pump.deadline else {
            self.pump = nil
            pump.done.succeed()
            return
        }
        guard context.channel.isWritable else { return }  // resumed by channelWritabilityChanged
        context.writeAndFlush(Self.wrapOutboundOut(pump.frames), promise: nil)
        output.wrote = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { bound.value.pumpOnce() }
    }

    struct RejectedError: Error { let reason: Reject.Reason }
    struct ClosedError: Error {}
}

/// An echo-mode client: answers every request frame with a reply frame of a property reply's size.
final class EchoClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let reply = BenchFrames.buffer(BenchFrames.propertyReport(requestID: 1))
    private static let requestSize = BenchFrames.buffer(BenchFrames.request(requestID: 1)).readableBytes
    private var received = 0
    private var flushPending = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Self.unwrapInboundIn(data).readableBytes
        while received >= Self.requestSize {
            received -= Self.requestSize
            context.write(Self.wrapOutboundOut(Self.reply), promise: nil)
            flushPending = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// The encoded property reply of the current round, per event-loop thread (loop-confined, no lock).
final class ReplyCache {
    private var requestID: UInt64 = .max
    private var frame = ByteBuffer()

    // ThreadSpecificVariable is safe to share: each thread sees only its own value.
    nonisolated(unsafe) private static let key = ThreadSpecificVariable<ReplyCache>()

    static var forCurrentThread: ReplyCache {
        if let cache = key.currentValue { return cache }
        let cache = ReplyCache()
        key.currentValue = cache
        return cache
    }

    func frame(for requestID: UInt64) -> ByteBuffer {
        if requestID != self.requestID {
            self.requestID = requestID
            frame = BenchFrames.buffer(BenchFrames.propertyReport(requestID: requestID))
        }
        return frame
    }
}

/// Runs `body` for `0..<count`, `width` at a time (a batch finishes before the next starts): how the benchmarks
/// connect thousands of simulated Clients without a connect storm.
public func inBatches(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
    var next = 0
    while next < count {
        let batch = next..<min(count, next + max(1, width))
        next = batch.upperBound
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in batch { tasks.addTask { try await body(index) } }
            try await tasks.waitForAll()
        }
    }
}
