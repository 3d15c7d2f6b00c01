import VEMProtocol

/// A ``ManagerBus`` whose logic is a ``ManagerEngine``: the transports (in-memory, hub, NATS) only move bytes, and
/// get the bus operations from here.
public protocol EngineBackedBus: ManagerBus {
    /// The shared Manager engine.
    var engine: ManagerEngine { get }
}

extension EngineBackedBus {
    /// Membership events and regular messages.
    public var events: AsyncStream<BusEvent> { engine.events }

    /// The Clients connected now.
    public func members() -> [ClientIdentity] { engine.members() }

    /// Whether the Client of that name is connected now.
    public func isConnected(_ name: String) -> Bool { engine.isConnected(name) }

    /// The names of the Clients connected now, in no particular order.
    public func memberNames() -> [String] { engine.memberNames() }

    /// Which of `names` are not connected now.
    public func disconnected(among names: [String]) -> [String] { engine.disconnected(among: names) }

    /// Sends a regular message to the Clients addressed.
    @discardableResult
    public func send(_ message: Message, to recipients: Recipients) -> Int { engine.send(message, to: recipients) }

    /// Submits a command.
    public func submit(_ name: String, arguments: [NamedValue], to client: String) throws(BusError) -> PendingCommand {
        try engine.submit(name, arguments: arguments, to: client)
    }

    /// A property round.
    public func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration
    ) async -> PropertyRoundResult {
        await engine.collectProperties(names, from: recipients, timeout: timeout)
    }

    /// A property round whose replies are told as they arrive.
    public func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration,
        onReply: @escaping @Sendable (String, PropertyReport) -> Void
    ) async -> PropertyRoundResult {
        await engine.collectProperties(names, from: recipients, timeout: timeout, onReply: onReply)
    }
}
