import Synchronization
import VEMBus
import VEMProtocol

/// A Client on an ``InMemoryBus``. ``run()`` connects and reconnects at once after ``dropConnection(reason:)``;
/// ``kill()`` ends the simulated process (no `bye`, the incarnation is over: start a new client with a new
/// incarnation to simulate the restart).
public final class InMemoryClient: ClientBus {
    enum Phase {
        case idle
        case running(CheckedContinuation<Void, any Error>?)
        case stopped
    }

    struct State {
        var phase: Phase = .idle
        var link: InMemoryConnection.ClientEnd?
        var connections = 0
        var stopError: BusError?
    }

    /// The Client engine (command stream, Runner, events).
    public let engine: ClientEngine
    let bus: InMemoryBus
    /// The address the Manager's side sees this Client connect from (the identity's, as given).
    let address: String?
    private let state = Mutex(State())

    init(bus: InMemoryBus, identity: ClientIdentity, token: String, handlers: ClientHandlers) {
        self.bus = bus
        address = identity.address
        engine = ClientEngine(identity: identity, token: token, handlers: handlers, logger: bus.logger)
    }

    /// Connection changes and regular messages.
    public var events: AsyncStream<ClientBusEvent> { engine.events }

    /// Sends a regular message.
    public func send(_ message: Message) throws(BusError) { try engine.send(message) }

    /// Connects, reconnects after drops, and runs commands until cancelled (then says `bye`), killed, or
    /// rejected (throws).
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.engine.runCommands() }
            defer { group.cancelAll() }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let start = state.withLock { state -> Bool in
                        guard case .idle = state.phase else {
                            continuation.resume()
                            return false
                        }
                        state.phase = .running(continuation)
                        return true
                    }
                    if start { connect() }
                }
            } onCancel: {
                self.engine.sayBye(reason: "shutdown")
                self.stop(error: nil, closing: "client left")
            }
        }
    }

    /// Closes the current connection as if the network dropped it; the client reconnects at once with the same
    /// incarnation.
    /// - Parameter reason: The reason the Manager sees.
    public func dropConnection(reason: String = "connection lost") {
        state.withLock { $0.link }?.close(reason: reason)
    }

    /// Ends the simulated process abruptly: the connection is lost (no `bye`) and the Runner stops.
    public func kill() { stop(error: nil, closing: "connection lost") }

    func rejected(_ reject: Reject) {
        stop(error: BusError(.rejected, "\(reject.reason): \(reject.detail)", reject: reject), closing: "rejected")
    }

    func connectionEnded(_ end: InMemoryConnection.ClientEnd) {
        let reconnect = state.withLock { state -> Bool in
            guard state.link === end else { return false }
            state.link = nil
            if case .running = state.phase { return true }
            return false
        }
        if reconnect { connect() }
    }

    private func connect() {
        let clientEnd = state.withLock { state in
            state.connections += 1
            let (_, clientEnd) = InMemoryConnection.make(
                bus: bus, client: self, peer: "memory:\(engine.identity.name)#\(state.connections)")
            state.link = clientEnd
            return clientEnd
        }
        bus.network.enqueue { self.engine.linkOpened(clientEnd) }
    }

    private func stop(error: BusError?, closing reason: String) {
        let (continuation, link) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, InMemoryConnection.ClientEnd?) in
            guard case .running(let continuation) = state.phase else {
                state.phase = .stopped
                return (nil, state.link)
            }
            state.phase = .stopped
            return (continuation, state.link)
        }
        link?.close(reason: reason)
        if let error { continuation?.resume(throwing: error) } else { continuation?.resume() }
    }
}
