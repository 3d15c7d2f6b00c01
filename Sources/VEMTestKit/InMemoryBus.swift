import Logging
import Synchronization
import VEMBus
import VEMProtocol

/// The in-memory bus for unit tests: the Manager side and any number of Clients in one process, with the same
/// engines as the real transports (admission, membership, command streams, property rounds), and seeded hooks to
/// drop, delay and duplicate messages (``Faults``).
///
/// Delivery is serial and never recursive (a trampoline); call ``tick()`` to run the retransmit timers and
/// release delayed messages — with dropped messages, commands and results are repaired only then.
public final class InMemoryBus: EngineBackedBus {
    /// The shared Manager engine.
    public let engine: ManagerEngine
    let network: InMemoryNetwork
    let logger: Logger
    private let clients = Mutex<[InMemoryClient]>([])

    /// Creates an in-memory bus.
    /// - Parameters:
    ///   - configuration: Admission, heartbeat, command-stream tuning.
    ///   - faults: Injected faults (default none).
    ///   - logger: For membership changes.
    ///   - messageHandler: Receives regular messages synchronously instead of ``events``.
    public init(
        configuration: ManagerEngine.Configuration = .init(), faults: Faults = .none,
        logger: Logger = Logger(label: "vem.bus.memory"), messageHandler: ManagerEngine.MessageHandler? = nil
    ) {
        engine = ManagerEngine(configuration: configuration, logger: logger, messageHandler: messageHandler)
        network = InMemoryNetwork(faults: faults)
        self.logger = logger
    }

    /// Creates a Client on this bus (it connects when its ``InMemoryClient/run()`` starts).
    /// - Parameters:
    ///   - identity: Who it is (use a new incarnation for each simulated process start).
    ///   - token: Its credential.
    ///   - handlers: Its Runner and property handler.
    public func makeClient(identity: ClientIdentity, token: String, handlers: ClientHandlers) -> InMemoryClient {
        let client = InMemoryClient(bus: self, identity: identity, token: token, handlers: handlers)
        clients.withLock { $0.append(client) }
        return client
    }

    /// Opens a connection that carries raw bytes (for bad-input tests); the Manager decodes them with the real
    /// frame decoder.
    public func openRawConnection() -> InMemoryRawConnection {
        InMemoryRawConnection(bus: self)
    }

    /// Runs every retransmit timer (Manager and Clients) and releases delayed messages.
    public func tick() {
        network.releaseDelayed()
        engine.retransmit()
        for client in clients.withLock({ $0 }) { client.engine.retransmit() }
    }

    /// Ends the event stream.
    public func shutdown() { engine.finish() }
}

/// One in-memory connection between the Manager engine and a Client engine. The two ends point to the
/// connection; the connection points to its ends until it closes (which breaks the cycle).
final class InMemoryConnection: Sendable {
    final class ManagerEnd: ManagerLink {
        let peer: String
        let peerAddress: String?
        let connection: InMemoryConnection
        init(peer: String, connection: InMemoryConnection) {
            self.peer = peer
            // The in-memory transport "sees" the address the test gave the Client's identity.
            peerAddress = connection.client.address
            self.connection = connection
        }
        func transmit(_ messages: [Message]) { connection.toClient(messages) }
        func close(reason: String) { connection.close(reason: reason) }
    }

    final class ClientEnd: ClientLink {
        let connection: InMemoryConnection
        init(connection: InMemoryConnection) { self.connection = connection }
        func transmit(_ messages: [Message]) { connection.toManager(messages) }
        func close(reason: String) { connection.close(reason: reason) }
    }

    let bus: InMemoryBus
    let client: InMemoryClient
    let phase = Mutex<LinkPhase>(.awaitingHello)
    let closeRequested = Atomic<Bool>(false)
    let closed = Atomic<Bool>(false)
    private let ends = Mutex<(manager: ManagerEnd, client: ClientEnd)?>(nil)

    /// Creates a connection and its two ends.
    static func make(bus: InMemoryBus, client: InMemoryClient, peer: String) -> (ManagerEnd, ClientEnd) {
        let connection = InMemoryConnection(bus: bus, client: client)
        let pair = (ManagerEnd(peer: peer, connection: connection), ClientEnd(connection: connection))
        connection.ends.withLock { $0 = (pair.0, pair.1) }
        return pair
    }

    private init(bus: InMemoryBus, client: InMemoryClient) {
        self.bus = bus
        self.client = client
    }

    func toClient(_ messages: [Message]) {
        for message in messages {
            bus.network.send(message) { [self] in
                guard !closed.load(ordering: .acquiring), let end = ends.withLock({ $0?.client }) else { return }
                switch client.engine.handle(message, on: end) {
                case .proceed: break
                case .rejected(let reject): client.rejected(reject)
                case .close(let reason): close(reason: reason)
                }
            }
        }
    }

    func toManager(_ messages: [Message]) {
        for message in messages {
            bus.network.send(message) { [self] in
                guard !closed.load(ordering: .acquiring), let end = ends.withLock({ $0?.manager }) else { return }
                let action = phase.withLock { bus.engine.handle(message, phase: &$0, link: end) }
                if case .close(let reason) = action { close(reason: reason) }
            }
        }
    }

    /// Closes after the messages already on their way (like TCP, which delivers what was sent before the FIN).
    func close(reason: String) {
        guard !closeRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        bus.network.enqueue { [self] in
            closed.store(true, ordering: .releasing)
            guard let (managerEnd, clientEnd) = ends.withLock({ ends in defer { ends = nil }; return ends }) else {
                return
            }
            phase.withLock { bus.engine.linkClosed(phase: &$0, link: managerEnd, reason: reason) }
            client.engine.linkClosed(clientEnd, reason: reason)
            client.connectionEnded(clientEnd)
        }
    }
}
