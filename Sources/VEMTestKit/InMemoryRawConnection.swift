import Synchronization
import VEMBus
import VEMProtocol

/// A connection that carries raw bytes to the Manager (bad-input tests): the bytes go through the real
/// ``FrameDecoder`` and the Manager engine, exactly as on a socket.
public final class InMemoryRawConnection: Sendable {
    final class End: ManagerLink {
        let peer: String
        let owner: InMemoryRawConnection
        init(peer: String, owner: InMemoryRawConnection) {
            self.peer = peer
            self.owner = owner
        }
        func transmit(_ messages: [Message]) { owner.received.withLock { $0.append(contentsOf: messages) } }
        func close(reason: String) { owner.close(reason: reason) }
    }

    struct State {
        var decoder = FrameDecoder()
        var phase = LinkPhase.awaitingHello
        var closeReason: String?
    }

    let bus: InMemoryBus
    let state = Mutex(State())
    let received = Mutex<[Message]>([])

    init(bus: InMemoryBus) { self.bus = bus }

    /// Messages the Manager sent on this connection.
    public var messages: [Message] { received.withLock { $0 } }
    /// Why the connection was closed, once it was.
    public var closeReason: String? { state.withLock { $0.closeReason } }

    /// Sends bytes to the Manager.
    public func write(_ bytes: [UInt8]) {
        let end = End(peer: "memory:raw", owner: self)
        bus.network.enqueue { [self] in
            var failure: String?
            state.withLock { state in
                guard state.closeReason == nil else { return }
                state.decoder.append(bytes)
                do throws(ProtocolError) {
                    while let message = try state.decoder.next() {
                        if case .close(let reason) = bus.engine.handle(message, phase: &state.phase, link: end) {
                            failure = reason
                            return
                        }
                    }
                } catch {
                    failure = error.description
                }
            }
            if let failure { close(reason: failure) }
        }
    }

    /// Closes the sending side (the peer hung up); a partial frame left over is a truncated frame.
    public func closeWrite() {
        bus.network.enqueue { [self] in
            let reason = state.withLock { state -> String in
                do throws(ProtocolError) {
                    try state.decoder.finish()
                    return "peer closed the connection"
                } catch {
                    return error.description
                }
            }
            close(reason: reason)
        }
    }

    func close(reason: String) {
        let end = End(peer: "memory:raw", owner: self)
        bus.network.enqueue { [self] in
            state.withLock { state in
                guard state.closeReason == nil else { return }
                state.closeReason = reason
                bus.engine.linkClosed(phase: &state.phase, link: end, reason: reason)
            }
        }
    }
}
