import Logging
import Synchronization
import VEMProtocol

/// The Manager's half of the bus, independent of the transport: admission, membership, the command streams of
/// every Client, property rounds, and routing of regular messages. A transport (the hub, the in-memory bus,
/// NATS) owns the connections and calls ``handle(_:phase:link:)`` for each message and
/// ``linkClosed(phase:link:reason:)`` when a connection ends; the engine answers through ``ManagerLink``.
///
/// Locking: one lock for the registry of Clients, one per Client record, one for property rounds; a record's lock
/// is never held while the registry's is taken, and no lock is held while a link transmits or a waiter resumes.
public final class ManagerEngine: Sendable {
    /// Tuning shared by every transport.
    public struct Configuration: Sendable {
        /// Who may join. Default: no token, Manager version `1.0.0`.
        public var admission: Admission
        /// How often each side sends a heartbeat when idle (announced in `welcome`). Default 5 s.
        public var heartbeatInterval: Duration
        /// Tuning of each Client's command stream (window 32, unsent commands resent to the next incarnation).
        public var commandStream: CommandStream.ManagerSide.Configuration
        /// This Manager process's incarnation (announced in `welcome`). Default: random.
        public var managerIncarnation: UInt64
        /// Makes each command result durable before the Client is told it may forget it (`result_ack`): a
        /// Manager journals results here so that a crash cannot lose a result the Client has already dropped.
        /// Called on the transport's thread with each result the first time it is delivered; it must not block
        /// (queue the write elsewhere) and calls `stored` once the result is durable. Default nil: results are
        /// confirmed as they are delivered.
        public var resultObserver: ResultStore?
        /// Called synchronously with each refused `hello` (the peer's address and the refusal's reason), so a
        /// transport can slow down whoever keeps failing to log in. Default nil.
        public var refusalObserver: (@Sendable (_ peerAddress: String?, _ reason: Reject.Reason) -> Void)?

        /// Creates a configuration.
        public init(
            admission: Admission = Admission(), heartbeatInterval: Duration = .seconds(5),
            commandStream: CommandStream.ManagerSide.Configuration = .init(),
            managerIncarnation: UInt64 = UInt64.random(in: 1...UInt64.max)
        ) {
            self.admission = admission
            self.heartbeatInterval = heartbeatInterval
            self.commandStream = commandStream
            self.managerIncarnation = managerIncarnation
        }
    }

    /// Makes a command result durable, then calls `stored` (from any thread). See
    /// ``Configuration/resultObserver``.
    public typealias ResultStore = @Sendable (
        _ client: String, _ result: CommandResult, _ stored: @escaping @Sendable () -> Void
    ) -> Void
    /// A synchronous receiver of regular messages, called on the transport's thread (keep it fast).
    public typealias MessageHandler = @Sendable (ClientIdentity, Message) -> Void
    /// Takes a Client's regular message on the transport's thread, or declines it (returns false): a declined
    /// message goes to ``events`` as usual. See ``takeMessages(_:)``.
    public typealias MessageIntake = @Sendable (ClientIdentity, Message) -> Bool
    /// Sends one message to many connections; a transport encodes it once.
    public typealias FanOut = @Sendable (Message, [any ManagerLink]) -> Void
    /// Runs an action once after a delay, on the transport's own timer (an event loop's scheduled task).
    public typealias Scheduler = @Sendable (Duration, @escaping @Sendable () -> Void) -> Void

    struct Registry {
        var records: [String: ClientRecord] = [:]
        var live: [String: ClientSession] = [:]
    }

    /// The configuration.
    public let configuration: Configuration
    /// Membership events and regular messages (when no handler is installed).
    public let events: AsyncStream<BusEvent>
    let continuation: AsyncStream<BusEvent>.Continuation
    let logger: Logger
    let messageHandler: MessageHandler?
    let fanOut: FanOut
    let scheduler: Scheduler?
    /// The intake, boxed: a closure kept directly in a `Mutex` is re-wrapped in reabstraction thunks at each
    /// `withLock`, so its calls grew deeper with every message.
    let intake = Mutex<IntakeBox?>(nil)
    let registry = Mutex(Registry())
    let rounds = Mutex(RoundTable())

    /// Creates an engine.
    /// - Parameters:
    ///   - configuration: Admission, heartbeat, command-stream tuning.
    ///   - logger: Where membership changes and closed connections are logged (never payloads or tokens).
    ///   - messageHandler: Receives regular messages synchronously instead of ``events`` (for high rates).
    ///   - fanOut: Sends one message to many links; the default transmits to each.
    ///   - scheduler: Fires property-round timeouts; without one, a child task sleeps beside each round.
    public init(
        configuration: Configuration, logger: Logger, messageHandler: MessageHandler? = nil,
        fanOut: FanOut? = nil, scheduler: Scheduler? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.messageHandler = messageHandler
        self.fanOut = fanOut ?? { message, links in for link in links { link.transmit([message]) } }
        self.scheduler = scheduler
        (events, continuation) = AsyncStream.makeStream(of: BusEvent.self, bufferingPolicy: .unbounded)
    }

    /// Lets `intake` take regular messages (not membership events) synchronously, on the transport's thread,
    /// before they would go to ``events``: the Manager's Listener records a property reply there, without a hop
    /// through the stream (a task switch per reply, 10,000 per poll round at 10,000 Clients). What it declines
    /// goes to ``events`` in order. Without a ``MessageHandler`` only; install it before the transport starts.
    public func takeMessages(_ intake: MessageIntake?) {
        let box = intake.map(IntakeBox.init)
        self.intake.withLock { $0 = box }
    }

    /// Ends the event stream (at shutdown).
    public func finish() { continuation.finish() }

    // MARK: Transport hooks

    /// Handles one message received on a connection.
    /// - Parameters:
    ///   - message: The decoded message.
    ///   - phase: The connection's phase (updated).
    ///   - link: The connection.
    /// - Returns: Whether the transport must close the connection.
    public func handle(_ message: Message, phase: inout LinkPhase, link: any ManagerLink) -> LinkAction {
        switch phase {
        case .closed:
            return .proceed
        case .awaitingHello:
            guard case .hello(let hello) = message else {
                return .close(reason: "expected hello, got \(message.type)")
            }
            return admit(hello, phase: &phase, link: link)
        case .active(let session):
            switch message {
            case .heartbeat:
                return .proceed
            case .property(let report):
                if report.requestID != 0 && deliverReply(report, from: session.identity.name) { return .proceed }
                deliverRegular(message, from: session)
                return .proceed
            case .event:
                deliverRegular(message, from: session)
                return .proceed
            case .commandAck, .commandResult:
                streamMessage(message, in: session)
                return .proceed
            case .bye(let bye):
                phase = .closed
                clientLeft(session, reason: bye.reason.isEmpty ? "bye" : "bye: \(LogText.escaped(bye.reason))")
                return .close(reason: "client left")
            case .hello, .welcome, .reject, .getProperty, .command, .resultAck:
                return .close(reason: "unexpected \(message.type) from an admitted client")
            }
        }
    }

    /// A connection ended (the peer closed, a protocol error, heartbeat timeout, slow consumer, shutdown).
    /// - Parameters:
    ///   - phase: The connection's phase (set to `.closed`).
    ///   - link: The connection.
    ///   - reason: Why, for the log and the event.
    public func linkClosed(phase: inout LinkPhase, link: any ManagerLink, reason: String) {
        let previous = phase
        phase = .closed
        switch previous {
        case .closed:
            return
        case .awaitingHello:
            logger.info("connection closed before admission", metadata: ["peer": "\(link.peer)", "reason": "\(reason)"])
            continuation.yield(.connectionRejected(peer: link.peer, reason: reason))
        case .active(let session):
            let wasCurrent = session.record.state.withLock { state in
                guard state.session === session else { return false }
                state.session = nil
                _ = state.stream.onDisconnected()
                return true
            }
            guard wasCurrent else { return }
            registry.withLock { registry in
                if registry.live[session.identity.name] === session { registry.live[session.identity.name] = nil }
            }
            logger.info(
                "client disconnected",
                metadata: ["client": "\(session.identity.name)", "peer": "\(link.peer)", "reason": "\(reason)"])
            continuation.yield(.disconnect(name: session.identity.name, reason: reason))
        }
    }

    // MARK: Admission

    private func admit(_ hello: Hello, phase: inout LinkPhase, link: any ManagerLink) -> LinkAction {
        if let reject = configuration.admission.check(hello, certificate: link.certifiedPeer) {
            return refuse(reject, client: hello.name, phase: &phase, link: link)
        }
        var identity = ClientIdentity(hello: hello)
        identity.address = link.peerAddress
        let record = registry.withLock { registry in
            if let record = registry.records[identity.name] { return record }
            let record = ClientRecord(
                identity: identity, stream: CommandStream.ManagerSide(configuration: streamConfiguration))
            registry.records[identity.name] = record
            return record
        }
        let session = ClientSession(identity: identity, link: link, record: record)
        var effects = StreamEffects()
        var resumed = false
        let welcome = Welcome(
            managerIncarnation: configuration.managerIncarnation,
            heartbeatIntervalMilliseconds: UInt64(configuration.heartbeatInterval.components.seconds) * 1000
                + UInt64(configuration.heartbeatInterval.components.attoseconds / 1_000_000_000_000_000))
        let replaced: ClientSession?? = record.state.withLock { state in
            let previous = state.session
            if let previous, previous.identity.incarnation != identity.incarnation { return .none }
            // The same incarnation again while its connection is live: a reconnect the Manager has not yet seen
            // the end of, or someone replaying a victim's hello. Only the address it is connected from may take
            // the session over (when the transport knows both addresses; a refused Client retries).
            if let old = previous?.link.peerAddress, let new = link.peerAddress, old != new { return .none }
            state.identity = identity
            state.session = session
            if previous != nil { _ = state.stream.onDisconnected() }
            let directives = state.stream.onConnected(hello: hello, welcome: welcome)
            for case .transmit(.welcome(let sent)) in directives { resumed = sent.resumed }
            effects.take(directives, from: &state)
            return .some(previous)
        }
        guard let replaced else {
            return refuse(
                Reject(.duplicateName, detail: "another live client uses this name"), client: identity.name,
                phase: &phase, link: link)
        }
        registry.withLock { $0.live[identity.name] = session }
        if let old = replaced {
            logger.info("client replaced by a new connection", metadata: ["client": "\(identity.name)"])
            continuation.yield(.disconnect(name: identity.name, reason: "replaced by a new connection"))
            old.link.close(reason: "replaced by a new connection")
        }
        phase = .active(session)
        effects.perform(on: link)
        logger.info(
            "client joined",
            metadata: [
                "client": "\(identity.name)", "peer": "\(link.peer)", "incarnation": "\(identity.incarnation)",
                "resumed": "\(resumed)",
            ])
        continuation.yield(.join(identity, resumed: resumed))
        return .proceed
    }

    /// Refuses a `hello` from `client` (the name it claims): the log and the event's reason name it, so an
    /// administrator reading the refusal learns which Client to fix — a name that is not a host-name word
    /// (``Admission/isHostNameWord(_:)``) is not repeated (a forged name could carry anything), only said invalid.
    private func refuse(_ reject: Reject, client: String, phase: inout LinkPhase, link: any ManagerLink) -> LinkAction {
        let valid = Admission.isHostNameWord(client)
        let reason = "\(reject.reason): \(reject.detail) (\(valid ? "client \(LogText.quoted(client))" : "an invalid client name"))"
        phase = .closed
        configuration.refusalObserver?(link.peerAddress, reject.reason)
        logger.warning(
            "client refused",
            metadata: ["client": "\(valid ? client : "(invalid)")", "peer": "\(link.peer)", "reason": "\(reason)"])
        continuation.yield(.connectionRejected(peer: link.peer, reason: reason))
        link.transmit([.reject(reject)])
        return .close(reason: reason)
    }

    // MARK: Inbound routing

    private func deliverReply(_ report: PropertyReport, from name: String) -> Bool {
        let (known, completion, observer) = rounds.withLock { $0.reply(report, from: name) }
        observer?(name, report)
        if let (continuation, result) = completion { continuation.resume(returning: result) }
        return known
    }

    private func deliverRegular(_ message: Message, from session: ClientSession) {
        if let messageHandler {
            messageHandler(session.identity, message)
        } else if let box = intake.withLock({ $0 }), box.take(session.identity, message) {
            return
        } else {
            continuation.yield(.message(from: session.identity.name, message))
        }
    }

    private func streamMessage(_ message: Message, in session: ClientSession) {
        var effects = StreamEffects()
        let current = session.record.state.withLock { state in
            guard state.session === session else { return false }
            effects.take(state.stream.onMessage(message), from: &state)
            return true
        }
        guard current else { return }
        if let store = configuration.resultObserver {
            let record = session.record
            for case (_, .result(let result)) in effects.outcomes {
                store(session.identity.name, result) { [weak self] in self?.resultStored(result.seq, in: record) }
            }
        }
        effects.perform(on: session.link)
    }

    /// The tuning of every Client's command stream: results wait for the ``Configuration/resultObserver``, if any.
    var streamConfiguration: CommandStream.ManagerSide.Configuration {
        var stream = configuration.commandStream
        if configuration.resultObserver != nil { stream.resultConfirmation = .whenStored }
        return stream
    }

    /// A result is durable: confirm it to the Client on its current connection.
    private func resultStored(_ seq: UInt64, in record: ClientRecord) {
        var effects = StreamEffects()
        let link = record.state.withLock { state in
            effects.take(state.stream.onResultsStored([seq]), from: &state)
            return state.session?.link
        }
        effects.perform(on: link)
    }

    private func clientLeft(_ session: ClientSession, reason: String) {
        var effects = StreamEffects()
        let current = session.record.state.withLock { state in
            guard state.session === session else { return false }
            state.session = nil
            effects.take(state.stream.onClientLeft(), from: &state)
            return true
        }
        guard current else { return }
        registry.withLock { registry in
            if registry.live[session.identity.name] === session { registry.live[session.identity.name] = nil }
        }
        effects.perform(on: nil)
        logger.info("client left", metadata: ["client": "\(session.identity.name)", "reason": "\(reason)"])
        continuation.yield(.leave(name: session.identity.name, reason: reason))
    }
}

/// A ``ManagerEngine/MessageIntake`` held by reference.
final class IntakeBox: Sendable {
    let take: ManagerEngine.MessageIntake
    init(_ take: @escaping ManagerEngine.MessageIntake) { self.take = take }
}
