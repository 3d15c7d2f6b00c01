import VEMProtocol

/// The Manager's side of the bus: membership, regular messages to one Client, a group or all, the reliable
/// command stream, and property rounds. Implemented by the embedded hub (`VEMHub.HubServer`), the in-memory bus
/// (`VEMTestKit.InMemoryBus`) and, later, NATS; which one runs is configuration, not code.
///
/// Every method is safe to call from any task or thread.
public protocol ManagerBus: Sendable {
    /// Membership events and regular messages, in arrival order. One consumer; consume it, or events queue up.
    var events: AsyncStream<BusEvent> { get }

    /// The Clients connected now.
    func members() -> [ClientIdentity]

    /// Whether the Client of that name is connected now (without listing every member).
    func isConnected(_ name: String) -> Bool

    /// The names of the Clients connected now, in no particular order (without copying and sorting every
    /// identity, as ``members()`` does).
    func memberNames() -> [String]

    /// Which of `names` are not connected now, in their order (one look-up each, without listing every member).
    func disconnected(among names: [String]) -> [String]

    /// Sends a regular message (`get_property`, `event`, …) to the connected Clients addressed. Not reliable:
    /// a Client between connections misses it.
    /// - Parameters:
    ///   - message: The message.
    ///   - recipients: One Client, a group, or all.
    /// - Returns: How many Clients it was sent to.
    @discardableResult
    func send(_ message: Message, to recipients: Recipients) -> Int

    /// Submits a command to a Client's reliable command stream. Commands to one Client run in submission order,
    /// each at most once; every one gets an outcome (a result, or `.unknown` when the Client's incarnation ends
    /// first).
    /// - Parameters:
    ///   - name: The command plugin's name.
    ///   - arguments: Its arguments.
    ///   - client: The Client's name; it must have joined at least once.
    /// - Returns: The pending command (its `seq` now, its outcome later).
    /// - Throws: ``BusError/Code/unknownClient``.
    func submit(_ name: String, arguments: [NamedValue], to client: String) throws(BusError) -> PendingCommand

    /// A property round: sends `get_property` to the connected Clients addressed and gathers their replies
    /// (without an event per reply).
    /// - Parameters:
    ///   - names: The properties wanted (empty: all).
    ///   - recipients: Who is asked.
    ///   - timeout: How long to wait for the last reply.
    /// - Returns: The replies by Client name, and who did not answer in time.
    func collectProperties(_ names: [String], from recipients: Recipients, timeout: Duration) async
        -> PropertyRoundResult

    /// A property round that tells `onReply` of each reply as it arrives (`vem ask`), then returns them all.
    func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration,
        onReply: @escaping @Sendable (String, PropertyReport) -> Void
    ) async -> PropertyRoundResult
}

extension ManagerBus {
    /// A bus that cannot stream a round's replies tells of them all once the round ends.
    public func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration,
        onReply: @escaping @Sendable (String, PropertyReport) -> Void
    ) async -> PropertyRoundResult {
        let result = await collectProperties(names, from: recipients, timeout: timeout)
        for (name, report) in result.replies.sorted(by: { $0.key < $1.key }) { onReply(name, report) }
        return result
    }
}

/// The Client's side of the bus: connect (and reconnect), receive commands for the Runner, answer property
/// requests, send regular messages.
public protocol ClientBus: Sendable {
    /// Connection changes and regular messages from the Manager. One consumer.
    var events: AsyncStream<ClientBusEvent> { get }

    /// Sends a regular message (`property`, `event`). Not reliable across disconnects.
    /// - Parameter message: The message.
    /// - Throws: ``BusError/Code/notConnected`` between connections.
    func send(_ message: Message) throws(BusError)

    /// Runs the Client: connects, reconnects with backoff, runs commands through the executor one at a time,
    /// until the task is cancelled (then says `bye`) or the Manager rejects the Client (throws).
    func run() async throws
}

/// What a Client does with what the Manager asks. Both closures must be safe to call from any thread.
public struct ClientHandlers: Sendable {
    /// Executes one command (the Runner). Called one command at a time, in stream order.
    public var execute: @Sendable (Command) async -> CommandResult
    /// Answers a `get_property` synchronously on the transport's thread (keep it fast). `nil`: requests are
    /// delivered as ``ClientBusEvent/message(_:)`` and the Client answers with ``ClientBus/send(_:)``.
    public var properties: (@Sendable (GetProperty) -> PropertyReport)?
    /// Called after a command's result was handed to the transport (sent, or held for the next connection when
    /// disconnected), in stream order; a Client that must stop after a `shutdown` command waits for it.
    public var reported: (@Sendable (CommandResult) -> Void)?

    /// Creates handlers.
    public init(
        execute: @escaping @Sendable (Command) async -> CommandResult,
        properties: (@Sendable (GetProperty) -> PropertyReport)? = nil,
        reported: (@Sendable (CommandResult) -> Void)? = nil
    ) {
        self.execute = execute
        self.properties = properties
        self.reported = reported
    }
}

extension ManagerBus {
    /// Whether the Client of that name is connected now (by default from ``members()``).
    public func isConnected(_ name: String) -> Bool { members().contains { $0.name == name } }

    /// The names of the Clients connected now (by default from ``members()``).
    public func memberNames() -> [String] { members().map(\.name) }

    /// Which of `names` are not connected now (by default one ``isConnected(_:)`` each).
    public func disconnected(among names: [String]) -> [String] { names.filter { !isConnected($0) } }
}
