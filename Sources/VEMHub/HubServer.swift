import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import VEMBus
import VEMProtocol
import VEMTrust

/// The embedded hub, Manager side: a SwiftNIO TCP server that Clients connect to. A ``VEMBus/ManagerBus``.
///
/// Pipeline per connection: `[NIOSSLServerHandler] → ServerConnectionHandler`, which decodes frames in place from
/// each read (``InboundFrames``) and handles them on the connection's event loop; the shared
/// ``VEMBus/ManagerEngine`` keeps membership and command streams. Use ``run()`` as a service, or ``start()`` /
/// ``shutdown()``.
public final class HubServer: EngineBackedBus {
    /// The connections alive now (admitted or not), for shutdown.
    final class LinkRegistry: Sendable {
        private let links = Mutex<[ObjectIdentifier: HubServerLink]>([:])
        func add(_ link: HubServerLink) { links.withLock { $0[ObjectIdentifier(link)] = link } }
        func remove(_ link: HubServerLink) { _ = links.withLock { $0.removeValue(forKey: ObjectIdentifier(link)) } }
        var all: [HubServerLink] { links.withLock { Array($0.values) } }
    }

    private enum State {
        case idle
        case listening(any Channel, port: Int)
        case stopped
    }

    /// The shared Manager engine.
    public let engine: ManagerEngine
    /// The configuration.
    public let configuration: HubConfiguration
    let logger: Logger
    let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let links = LinkRegistry()
    private let sweepers = LivenessSweepers()
    private let gate: ConnectionGate
    private let state = Mutex(State.idle)
    private let revocationObservation = Mutex<RevocationList.Observation?>(nil)

    /// Creates a hub server (not yet listening).
    /// - Parameters:
    ///   - configuration: Address, limits, engine tuning.
    ///   - logger: For membership changes and closed connections (never payloads or tokens).
    ///   - messageHandler: Receives regular messages synchronously on the event loop instead of ``events``.
    ///   - eventLoopGroup: The group to use; by default one of `System.coreCount` threads owned by the server.
    public init(
        configuration: HubConfiguration = .init(), logger: Logger = Logger(label: "vem.hub"),
        messageHandler: ManagerEngine.MessageHandler? = nil, eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        if let eventLoopGroup {
            group = eventLoopGroup
            ownsGroup = false
        } else {
            group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
            ownsGroup = true
        }
        let maximumFrameSize = configuration.maximumFrameSize
        let timers = group.any()
        let gate = ConnectionGate(configuration: configuration)
        self.gate = gate
        var engineConfiguration = configuration.engine
        let observer = engineConfiguration.refusalObserver
        engineConfiguration.refusalObserver = { address, reason in
            if reason == .badCredentials || reason == .forbidden {
                gate.loginFailed(address, now: Int64(NIODeadline.now().uptimeNanoseconds))
            }
            observer?(address, reason)
        }
        engine = ManagerEngine(
            configuration: engineConfiguration, logger: logger, messageHandler: messageHandler,
            fanOut: { message, links in HubServer.fanOut(message, to: links, maximumFrameSize: maximumFrameSize) },
            scheduler: { delay, action in timers.scheduleTask(in: .nanoseconds(delay.nanoseconds)) { action() } })
    }

    /// Starts listening.
    /// - Returns: The port (useful with port 0).
    /// - Throws: ``VEMBus/BusError/Code/transport`` when the address cannot be bound.
    @discardableResult
    public func start() async throws -> Int {
        let configuration = configuration
        let engine = engine
        let logger = logger
        let links = links
        let sweepers = sweepers
        let gate = gate
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(clamping: configuration.backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: UInt(configuration.maxMessagesPerRead))
            .childChannelOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(low: configuration.lowWaterMark, high: configuration.highWaterMark)
            )
            .childChannelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 64 * 1024)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let size = configuration.socketSendBufferSize {
                        try channel.syncOptions?.setOption(ChannelOptions.socketOption(.so_sndbuf), value: size)
                    }
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(
                            engine: engine, configuration: configuration, logger: logger, registry: links,
                            sweepers: sweepers, gate: gate))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw BusError(.transport, "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        let port = channel.localAddress?.port ?? configuration.port
        let accepted = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .listening(channel, port: port)
            return true
        }
        guard accepted else {
            try? await channel.close()
            throw BusError(.shutDown, "the hub was already started or shut down")
        }
        if let revocations = configuration.tls?.revocations {
            let observation = revocations.observe { serials in
                HubServer.closeRevoked(serials, links: links.all, logger: logger)
            }
            revocationObservation.withLock { $0 = observation }
        }
        logger.info("hub listening", metadata: ["address": "\(configuration.host):\(port)"])
        return port
    }

    /// Closes every connection whose client certificate's serial is in `serials` (just revoked: a `vm.destroy`,
    /// or `tls_revoked` read again). Its Client's session ends as a disconnection; a reconnection is refused at
    /// the handshake.
    static func closeRevoked(_ serials: Set<String>, links: [HubServerLink], logger: Logger) {
        for link in links {
            guard let serial = link.certificateSerial, serials.contains(serial) else { continue }
            logger.warning(
                "connection closed: its certificate was revoked",
                metadata: [
                    "peer": "\(link.peer)", "client": "\(link.certifiedPeer?.name ?? "?")", "serial": "\(serial)",
                ])
            link.close(reason: "certificate \(serial) revoked")
        }
    }

    /// The port listened on (after ``start()``).
    public var port: Int? {
        state.withLock { state in
            if case .listening(_, let port) = state { return port }
            return nil
        }
    }

    /// Runs the hub as a service: listens, and on cancellation says `bye` to every Client and shuts down.
    public func run() async throws {
        if port == nil { try await start() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let channel = state.withLock { state -> (any Channel)? in
                    if case .listening(let channel, _) = state { return channel }
                    return nil
                }
                guard let channel else { return continuation.resume() }
                channel.closeFuture.whenComplete { _ in continuation.resume() }
            }
        } onCancel: {
            self.closeListener()
        }
        await shutdown()
    }

    private func closeListener() {
        let channel = state.withLock { state -> (any Channel)? in
            if case .listening(let channel, _) = state { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    /// Stops listening, says `bye` to every connection and closes it, ends ``events``, and shuts down the event
    /// loop group if the server owns it.
    public func shutdown() async {
        let channel = state.withLock { state -> (any Channel)? in
            defer { state = .stopped }
            if case .listening(let channel, _) = state { return channel }
            return nil
        }
        try? await channel?.close()
        if let observation = revocationObservation.withLock({ $0.take() }) {
            configuration.tls?.revocations.stopObserving(observation)
        }
        for link in links.all {
            link.transmit([.bye(Bye(reason: "manager shutting down"))])
            link.close(reason: "manager shutting down")
        }
        sweepers.stopAll()
        engine.finish()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Encodes once, then writes the same buffer to every link: one task per event loop, not per connection.
    static func fanOut(_ message: Message, to links: [any ManagerLink], maximumFrameSize: Int) {
        let frame: ByteBuffer
        do throws(ProtocolError) {
            frame = try FrameEncoder.frame(message, maximumFrameSize: maximumFrameSize, allocator: ByteBufferAllocator())
        } catch {
            return
        }
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, links: [HubServerLink])] = [:]
        for case let link as HubServerLink in links {
            byLoop[ObjectIdentifier(link.eventLoop), default: (link.eventLoop, [])].links.append(link)
        }
        for (_, entry) in byLoop {
            let targets = entry.links
            // One copy per event loop: the loops then never share (and contend on) the buffer's reference count.
            let frame = ByteBuffer(buffer: frame)
            if entry.loop.inEventLoop {
                writeChunks(frame, to: targets[...], on: entry.loop)
            } else {
                let loop = entry.loop
                loop.execute { writeChunks(frame, to: targets[...], on: loop) }
            }
        }
    }

    /// Connections written to in one event-loop task of a fan-out (each write is a system call). Small enough that
    /// a loop polls between two chunks: with 128, a loop's longest run of tasks at 10,000 Clients (`vem bench
    /// manager`) was up to 91 tasks and 12 ms of its CPU without polling, and its 1 ms timer more than 20 ms late in
    /// 5 runs of 6; with 16, 2 tasks and under 1 ms in 5 runs of 6, the timer within 20 ms in 5 of 6, and the same
    /// property round in `vem bench bus` (docs/MEASUREMENTS.md, *Branch `fanout`*).
    static let fanOutChunk = 16
    /// How long after one chunk of a fan-out the next is due: long enough that the loop's tick ends and the loop
    /// polls its sockets before the next chunk (NIO runs every task queued or due during a tick before it polls).
    static let fanOutPause = TimeAmount.microseconds(50)

    /// Writes `frame` to ``fanOutChunk`` links, then schedules the rest on `loop` after ``fanOutPause``: the
    /// loop's timers run between two chunks, and so do its reads — the replies to the chunks already written are
    /// handled as they come, not all at once after the whole fan-out (the replies of 5,000 connections ready at
    /// once are handled in one go, holding the loop for about 100 ms). A message to one connection stays in
    /// order: each connection is written once per fan-out.
    static func writeChunks(_ frame: ByteBuffer, to links: ArraySlice<HubServerLink>, on loop: any EventLoop) {
        for link in links.prefix(fanOutChunk) { link.writeShared(frame) }
        let rest = links.dropFirst(fanOutChunk)
        guard !rest.isEmpty else { return }
        loop.scheduleTask(in: fanOutPause) { writeChunks(frame, to: rest, on: loop) }
    }
}
