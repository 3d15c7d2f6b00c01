import Logging
import Synchronization
import VEMProtocol

/// One connection of a transport, as the ``ClientEngine`` sees it.
public protocol ClientLink: AnyObject, Sendable {
    /// Sends messages on this connection, in order. Safe from any thread; never blocks.
    func transmit(_ messages: [Message])
    /// Closes the connection; the transport then calls ``ClientEngine/linkClosed(_:reason:)``.
    func close(reason: String)
}

/// The Client's half of the bus, independent of the transport: the `hello`, the command stream (in-order,
/// at-most-once execution through the Runner), property answers and the event stream. A transport connects,
/// calls ``linkOpened(_:)``, feeds every message to ``handle(_:on:)`` and reports the end with
/// ``linkClosed(_:reason:)``; its `run()` also drives ``runCommands()``.
public final class ClientEngine: Sendable {
    /// What the transport must do after a message.
    public enum Disposition: Hashable, Sendable {
        /// Keep going.
        case proceed
        /// The Manager refused this Client: close, and stop or retry depending on the reason.
        case rejected(Reject)
        /// Close the connection (the Manager broke the protocol or said `bye`), then reconnect.
        case close(reason: String)
    }

    struct State {
        var stream: CommandStream.ClientSide
        var link: (any ClientLink)?
        var admitted = false
    }

    /// Who this Client is (the incarnation is this process's).
    public let identity: ClientIdentity
    /// Connection changes and regular messages.
    public let events: AsyncStream<ClientBusEvent>
    let eventContinuation: AsyncStream<ClientBusEvent>.Continuation
    let commands: AsyncStream<Command>
    let commandContinuation: AsyncStream<Command>.Continuation
    let token: String
    let handlers: ClientHandlers
    let logger: Logger
    let state: Mutex<State>

    /// Creates an engine for one Client process.
    /// - Parameters:
    ///   - identity: Who the Client is.
    ///   - token: Its credential (never logged).
    ///   - handlers: The Runner and the property handler.
    ///   - logger: For connection changes.
    public init(identity: ClientIdentity, token: String, handlers: ClientHandlers, logger: Logger) {
        self.identity = identity
        self.token = token
        self.handlers = handlers
        self.logger = logger
        state = Mutex(State(stream: CommandStream.ClientSide(incarnation: identity.incarnation)))
        (events, eventContinuation) = AsyncStream.makeStream(of: ClientBusEvent.self)
        (commands, commandContinuation) = AsyncStream.makeStream(of: Command.self)
    }

    /// The command stream's position and whether a link is up and admitted, for diagnostics.
    public var streamDescription: String {
        state.withLock { "link=\($0.link != nil) admitted=\($0.admitted) \($0.stream)" }
    }

    /// `true` while results wait for the Manager's `result_ack`.
    public var hasHeldResults: Bool { state.withLock { !$0.stream.heldResults.isEmpty } }

    /// `true` while a connection is up and the Manager has welcomed this Client.
    public var isAdmitted: Bool { state.withLock { $0.admitted } }

    /// A connection is up: sends `hello`.
    /// - Parameter link: The new connection.
    public func linkOpened(_ link: any ClientLink) {
        let hello = identity.hello(token: token)
        let directives = state.withLock { state in
            state.link = link
            state.admitted = false
            return state.stream.onConnected(hello: hello)
        }
        link.transmit(transmits(directives))
    }

    /// Handles one message from the Manager.
    /// - Parameters:
    ///   - message: The message.
    ///   - link: The connection it came on.
    /// - Returns: What the transport must do.
    public func handle(_ message: Message, on link: any ClientLink) -> Disposition {
        switch message {
        case .welcome(let welcome):
            let directives = state.withLock { state -> [CommandStream.ClientSide.Directive]? in
                guard state.link === link, !state.admitted else { return nil }
                state.admitted = true
                return state.stream.onWelcome(welcome)
            }
            guard let directives else { return .proceed }
            eventContinuation.yield(.connected(welcome))
            perform(directives, on: link)
        case .reject(let reject):
            eventContinuation.yield(.rejected(reject))
            return .rejected(reject)
        case .command, .resultAck:
            let directives = state.withLock { state in
                guard state.link === link else { return [CommandStream.ClientSide.Directive]() }
                return state.stream.onMessage(message)
            }
            perform(directives, on: link)
        case .getProperty(let request):
            if let properties = handlers.properties {
                link.transmit([.property(properties(request))])
            } else {
                eventContinuation.yield(.message(message))
            }
        case .heartbeat:
            break
        case .bye(let bye):
            return .close(reason: bye.reason.isEmpty ? "manager said bye" : "manager said bye: \(bye.reason)")
        case .event, .property:
            eventContinuation.yield(.message(message))
        case .hello, .commandAck, .commandResult:
            return .close(reason: "unexpected \(message.type) from the manager")
        }
        return .proceed
    }

    /// The connection ended. Held results and the stream position are kept for the next connection.
    /// - Parameters:
    ///   - link: The connection.
    ///   - reason: Why.
    public func linkClosed(_ link: any ClientLink, reason: String) {
        let wasCurrent = state.withLock { state in
            guard state.link === link else { return false }
            state.link = nil
            state.admitted = false
            _ = state.stream.onDisconnected()
            return true
        }
        guard wasCurrent else { return }
        logger.info("disconnected from the manager", metadata: ["reason": "\(reason)"])
        eventContinuation.yield(.disconnected(reason: reason))
    }

    /// Sends a regular message on the current connection.
    /// - Throws: ``BusError/Code/notConnected`` when not admitted.
    public func send(_ message: Message) throws(BusError) {
        guard let link = state.withLock({ $0.admitted ? $0.link : nil }) else {
            throw BusError(.notConnected, "not connected to the manager")
        }
        link.transmit([message])
    }

    /// Sends `bye` (graceful leave) if connected.
    /// - Parameter reason: Why.
    public func sayBye(reason: String) {
        if let link = state.withLock({ $0.link }) { link.transmit([.bye(Bye(reason: reason))]) }
    }

    /// The Runner: executes commands one at a time, in stream order, until the task is cancelled or
    /// ``finish()`` is called.
    public func runCommands() async {
        for await command in commands {
            var result = await handlers.execute(command)
            result.seq = command.seq  // the Runner cannot report on another command
            let finished = result.cappingOutput()
            let (directives, link) = state.withLock { state in
                (state.stream.onCommandFinished(finished), state.link)
            }
            if let link { perform(directives, on: link) }
            handlers.reported?(finished)
        }
    }

    /// Ends the streams (at shutdown).
    public func finish() {
        commandContinuation.finish()
        eventContinuation.finish()
    }

    /// Resends unacknowledged state on the current connection (over TCP optional; the in-memory bus with
    /// dropped messages needs it).
    public func retransmit() {
        let (directives, link) = state.withLock { state in (state.stream.onRetransmitTimer(), state.link) }
        if let link { perform(directives, on: link) }
    }

    private func perform(_ directives: [CommandStream.ClientSide.Directive], on link: any ClientLink) {
        var messages: [Message] = []
        for directive in directives {
            switch directive {
            case .transmit(let message): messages.append(message)
            case .execute(let command): commandContinuation.yield(command)
            }
        }
        if !messages.isEmpty { link.transmit(messages) }
    }

    private func transmits(_ directives: [CommandStream.ClientSide.Directive]) -> [Message] {
        directives.compactMap { directive in
            if case .transmit(let message) = directive { return message }
            return nil
        }
    }
}
