import Logging
import NIOCore
import NIOPosix
import NIOSSL
import VEMTrust
import Synchronization
import VEMBus
import VEMProtocol

/// The embedded hub, Client side: connects to the Manager over TCP, says `hello`, runs commands, answers
/// property requests, sends heartbeats, and reconnects with exponential backoff and jitter when the connection
/// drops. A ``VEMBus/ClientBus``.
public final class HubClient: ClientBus {
    private struct State {
        var channel: (any Channel)?
        var stopping = false
    }

    /// The shared Client engine (command stream, Runner, events).
    public let engine: ClientEngine
    /// The configuration.
    public let configuration: HubClientConfiguration
    let logger: Logger
    let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let state = Mutex(State())

    /// Creates a Client (it connects when ``run()`` starts).
    /// - Parameters:
    ///   - configuration: Where the Manager is, backoff, limits.
    ///   - identity: Who this Client is (a new incarnation for every process start).
    ///   - token: Its credential (never logged).
    ///   - handlers: The Runner and the property handler.
    ///   - logger: For connection changes.
    ///   - eventLoopGroup: The group to use; by default a one-thread group owned by the client.
    public init(
        configuration: HubClientConfiguration, identity: ClientIdentity, token: String, handlers: ClientHandlers,
        logger: Logger = Logger(label: "vem.hub.client"), eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        engine = ClientEngine(identity: identity, token: token, handlers: handlers, logger: logger)
        if let eventLoopGroup {
            group = eventLoopGroup
            ownsGroup = false
        } else {
            group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownsGroup = true
        }
    }

    /// Connection changes and regular messages.
    public var events: AsyncStream<ClientBusEvent> { engine.events }

    /// Sends a regular message on the current connection.
    public func send(_ message: Message) throws(BusError) { try engine.send(message) }

    /// Connects and reconnects until cancelled (then says `bye`) or rejected for good (throws
    /// ``VEMBus/BusError/Code/rejected``; a duplicate name or a Manager shutting down is retried).
    public func run() async throws {
        defer { engine.finish() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await self.engine.runCommands() }
                defer { tasks.cancelAll() }
                try await withTaskCancellationHandler {
                    try await connectLoop()
                } onCancel: {
                    self.stop()
                }
            }
        } catch {
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Closes the current connection as if the network dropped it (the client reconnects with backoff).
    public func dropConnection() {
        state.withLock { $0.channel }?.close(promise: nil)
    }

    private func stop() {
        let channel = state.withLock { state in
            state.stopping = true
            return state.channel
        }
        engine.sayBye(reason: "shutdown")
        channel?.close(promise: nil)
    }

    private func connectLoop() async throws {
        var backoff = Backoff(configuration: configuration.backoff)
        var random = SystemRandomNumberGenerator()
        var reachability = ReachabilityLog()
        let manager = "\(configuration.host):\(configuration.port)"
        while !Task.isCancelled && !state.withLock({ $0.stopping }) {
            let outcome = ConnectionOutcome()
            let connected = await connect(outcome: outcome)
            switch connected {
            case .success:
                if let failures = reachability.reached() {
                    logger.info(
                        "reached the Manager", metadata: ["manager": "\(manager)", "failed_attempts": "\(failures)"])
                }
            case .failure(let error):
                if reachability.failed() {
                    logger.info(
                        "cannot reach the Manager; retrying with back-off",
                        metadata: ["manager": "\(manager)", "attempt": "\(reachability.failures)", "error": "\(error)"])
                }
            }
            if case .success(let channel) = connected {
                let stopping = state.withLock { state in
                    state.channel = channel
                    return state.stopping
                }
                if stopping {
                    engine.sayBye(reason: "shutdown")
                    channel.close(promise: nil)
                }
                try? await channel.closeFuture.get()
                state.withLock { $0.channel = nil }
                let result = outcome.state.withLock { $0 }
                if let reject = result.reject, reject.reason != .duplicateName, reject.reason != .shuttingDown {
                    throw BusError(.rejected, "the manager refused this client: \(reject.reason)", reject: reject)
                }
                if result.admitted { backoff.reset() }
            }
            if Task.isCancelled || state.withLock({ $0.stopping }) { break }
            try? await Task.sleep(for: backoff.nextDelay(using: &random))
        }
    }

    private func connect(outcome: ConnectionOutcome) async -> Result<any Channel, any Error> {
        let engine = engine
        let configuration = configuration
        let logger = logger
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(configuration.connectTimeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: tls, serverHostname: TLSContexts.serverName(for: configuration.host)))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(
                            engine: engine, configuration: configuration, outcome: outcome, logger: logger))
                }
            }
        do {
            return .success(try await bootstrap.connect(host: configuration.host, port: configuration.port).get())
        } catch {
            logger.debug("connect failed", metadata: ["error": "\(error)"])
            return .failure(error)
        }
    }
}
