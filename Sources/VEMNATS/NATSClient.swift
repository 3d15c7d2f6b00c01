import Logging
import Synchronization
import VEMBus
import VEMProtocol

/// A Client's side of the bus over NATS: the same contract and engine as the hub's Client (``ClientEngine``).
///
/// Every NATS (re)connection — and every time the Manager asks for a new `hello` — starts a new session with a
/// larger session id; messages addressed to another session of this Client are dropped. libnats reconnects by
/// itself (to any server of the list); the bus sends heartbeats when idle, and starts a new session when the
/// Manager is silent for three heartbeat intervals or a `hello` gets no `welcome` in time.
public final class NATSClient: ClientBus {
    struct State {
        var connection: NATSConnection?
        var link: NATSClientLink?
        var nextSession: UInt64
        var stopped = false
        var stopError: BusError?
        var waiter: CheckedContinuation<Void, Never>?
        var heartbeatInterval: Duration
    }

    /// The Client engine (command stream, Runner, events).
    public let engine: ClientEngine
    /// The configuration.
    public let configuration: NATSClientConfiguration
    /// The site's subjects.
    public let subjects: NATSSubjects
    let logger: Logger
    let state: Mutex<State>
    let lastHeard = Atomic<UInt64>(0)

    /// Creates a Client (``run()`` connects).
    /// - Parameters:
    ///   - configuration: Servers, credentials, site, timers.
    ///   - identity: Who the Client is (the name must be one subject token).
    ///   - token: The VEM token presented in `hello`.
    ///   - handlers: The Runner and property handler.
    ///   - logger: For connection changes.
    /// - Throws: ``NATSError/Code/invalidSubjectToken`` for a bad site, Client or group name.
    public init(
        configuration: NATSClientConfiguration, identity: ClientIdentity, token: String, handlers: ClientHandlers,
        logger: Logger = Logger(label: "vem.bus.nats.client")
    ) throws(NATSError) {
        subjects = try NATSSubjects(site: configuration.site)
        try NATSSubjects.validate(token: identity.name, what: "client name")
        if let group = identity.group { try NATSSubjects.validate(token: group, what: "group") }
        self.configuration = configuration
        self.logger = logger
        engine = ClientEngine(identity: identity, token: token, handlers: handlers, logger: logger)
        // Session ids grow within a process; the random base keeps those of different processes apart.
        let base = UInt64.random(in: 1...(UInt64.max >> 2)) & ~0xFFFF_FFFF
        state = Mutex(State(nextSession: base | 1, heartbeatInterval: configuration.heartbeatInterval))
    }

    /// Connection changes and regular messages.
    public var events: AsyncStream<ClientBusEvent> { engine.events }

    /// Sends a regular message (`property`, `event`).
    public func send(_ message: Message) throws(BusError) { try engine.send(message) }

    /// Connects (retrying until a server answers), runs commands, keeps sessions alive, until the task is
    /// cancelled (then says `bye`) or the Manager rejects this Client (throws ``BusError/Code/rejected``).
    public func run() async throws {
        let connection = try await connectUntilUp()
        defer { engine.finish() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.engine.runCommands() }
            group.addTask { await self.tickLoop() }
            do throws(NATSError) {
                try connection.subscribe(subjects.client(engine.identity.name)) { [self] view in receive(view) }
                if let group = engine.identity.group {
                    try connection.subscribe(subjects.group(group)) { [self] view in receive(view) }
                }
                try connection.subscribe(subjects.all) { [self] view in receive(view) }
                try await connection.flush()
                openSession()
            } catch {
                stop(BusError(.transport, "\(error)"))
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let done = state.withLock { state in
                        if state.stopped { return true }
                        state.waiter = waiter
                        return false
                    }
                    if done { waiter.resume() }
                }
            } onCancel: {
                self.stop(nil)
            }
            group.cancelAll()
        }
        let error = state.withLock { $0.stopError }
        if error == nil {
            engine.sayBye(reason: "shutdown")
            try? await connection.flush(timeout: .seconds(1))
        }
        await connection.close()
        if let error { throw error }
    }

    /// Ends the current session as if its connection was lost, and starts a new one (tests).
    public func dropSession(reason: String = "session dropped") {
        if let link = state.withLock({ $0.link }) { restartSession(link, reason: reason) }
    }

    /// Whether the NATS connection is up now.
    public var isConnected: Bool { state.withLock { $0.connection }?.isConnected ?? false }

    /// The current session's id (0 between sessions).
    public var currentSession: UInt64 { state.withLock { $0.link?.session ?? 0 } }

    // MARK: Sessions

    private func connectUntilUp() async throws -> NATSConnection {
        var options = configuration.connection
        if options.name == "vem" { options.name = "vem-client \(engine.identity.name)" }
        var reachability = ReachabilityLog()
        while true {
            try Task.checkCancellation()
            do throws(NATSError) {
                let connection = try await NATSConnection.connect(
                    options,
                    handlers: NATSConnectionHandlers(
                        disconnected: { [weak self] in self?.connectionLost() },
                        reconnected: { [weak self] in self?.openSession() },
                        error: { [weak self] error in
                            self?.logger.warning("NATS error", metadata: ["error": "\(error)"])
                        }))
                state.withLock { $0.connection = connection }
                if let failures = reachability.reached() {
                    logger.info("reached NATS", metadata: ["failed_attempts": "\(failures)"])
                }
                return connection
            } catch {
                if reachability.failed() {
                    logger.info(
                        "cannot reach NATS; retrying",
                        metadata: ["attempt": "\(reachability.failures)", "error": "\(error)"])
                } else {
                    logger.debug("NATS connect failed; retrying", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: configuration.connectRetry)
            }
        }
    }

    /// Starts a new session on the current connection: a new id, then `hello`.
    func openSession() {
        let opened: (NATSClientLink, NATSClientLink?)? = state.withLock { state in
            guard !state.stopped, let connection = state.connection else { return nil }
            let previous = state.link
            let session = state.nextSession
            state.nextSession += 1
            let link = NATSClientLink(
                session: session, connection: connection, subject: subjects.manager(engine.identity.name),
                note: connection.serverConnection.map { NATSEnvelope.ConnectionNote(cid: $0.cid, serverID: $0.serverID) },
                maximumFrameSize: configuration.maximumFrameSize, logger: logger)
            state.link = link
            return (link, previous)
        }
        guard let (link, previous) = opened else { return }
        if let previous { engine.linkClosed(previous, reason: "NATS connection replaced") }
        lastHeard.store(monotonicNanoseconds(), ordering: .relaxed)
        engine.linkOpened(link)
    }

    /// Ends `link`'s session (if current) and starts another.
    func restartSession(_ link: NATSClientLink, reason: String) {
        let current = state.withLock { state in
            guard state.link === link else { return false }
            state.link = nil
            return true
        }
        guard current else { return }
        engine.linkClosed(link, reason: reason)
        if state.withLock({ $0.connection?.isConnected ?? false }) { openSession() }
    }

    private func connectionLost() {
        guard let link = state.withLock({ state in defer { state.link = nil }; return state.link }) else { return }
        engine.linkClosed(link, reason: "NATS connection lost")
    }

    private func stop(_ error: BusError?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.stopped else { return nil }
            state.stopped = true
            state.stopError = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func receive(_ view: NATSMessageView) {
        let envelope: NATSEnvelope
        do throws(ProtocolError) {
            envelope = try NATSEnvelope(decoding: view.payload, maximumFrameSize: configuration.maximumFrameSize)
        } catch {
            logger.warning("malformed NATS payload from the manager", metadata: ["error": "\(error)"])
            return
        }
        guard let link = state.withLock({ $0.link }), envelope.session == 0 || envelope.session == link.session else {
            return  // another session's (stale) message
        }
        lastHeard.store(monotonicNanoseconds(), ordering: .relaxed)
        for message in envelope.messages {
            if case .welcome(let welcome) = message, welcome.heartbeatIntervalMilliseconds > 0 {
                state.withLock {
                    $0.heartbeatInterval = .milliseconds(Int64(clamping: welcome.heartbeatIntervalMilliseconds))
                }
            }
            switch engine.handle(message, on: link) {
            case .proceed:
                continue
            case .rejected(let reject):
                stop(BusError(.rejected, "\(reject.reason): \(reject.detail)", reject: reject))
                return
            case .close(let reason):
                restartSession(link, reason: reason)
                return
            }
        }
    }

    private func tickLoop() async {
        var lastRetransmit = monotonicNanoseconds()
        while !Task.isCancelled {
            let (interval, link) = state.withLock { ($0.heartbeatInterval, $0.link) }
            let period = min(interval / 2, configuration.helloTimeout / 2)
            try? await Task.sleep(for: period)
            guard let link else { continue }
            let now = monotonicNanoseconds()
            if !engine.isAdmitted {
                if now &- link.opened > configuration.helloTimeout.nanoseconds {
                    restartSession(link, reason: "no welcome")
                }
            } else if now &- lastHeard.load(ordering: .relaxed) > (interval * 3).nanoseconds {
                restartSession(link, reason: "the manager is silent")
            } else if now &- lastRetransmit >= interval.nanoseconds && engine.hasHeldResults {
                // At most once: results whose `result_ack` never came are resent once an interval.
                lastRetransmit = now
                engine.retransmit()
            } else if now &- link.lastSent.load(ordering: .relaxed) >= (interval / 2).nanoseconds {
                // Idle for half an interval, checked every half interval: frames at most one interval apart,
                // half an interval inside the Manager's 1.5-interval timeout.
                link.transmit([.heartbeat(Heartbeat())])
            }
        }
    }
}

/// One session of the Client: messages go to the Client's manager subject with the session id.
final class NATSClientLink: ClientLink {
    let session: UInt64
    let connection: NATSConnection
    let subject: String
    let note: NATSEnvelope.ConnectionNote?
    let maximumFrameSize: Int
    let logger: Logger
    let opened = monotonicNanoseconds()
    let lastSent = Atomic<UInt64>(0)
    private let noteSent = Atomic<Bool>(false)

    init(
        session: UInt64, connection: NATSConnection, subject: String, note: NATSEnvelope.ConnectionNote?,
        maximumFrameSize: Int, logger: Logger
    ) {
        self.session = session
        self.connection = connection
        self.subject = subject
        self.note = note
        self.maximumFrameSize = maximumFrameSize
        self.logger = logger
    }

    func transmit(_ messages: [Message]) {
        let withNote = !noteSent.exchange(true, ordering: .relaxed)
        let envelope = NATSEnvelope(session: session, note: withNote ? note : nil, messages: messages)
        let (bytes, dropped) = envelope.encoded(maximumFrameSize: maximumFrameSize)
        if dropped > 0 { logger.warning("message over the frame size not sent") }
        lastSent.store(monotonicNanoseconds(), ordering: .relaxed)
        do throws(NATSError) {
            try connection.publish(subject, bytes)
        } catch {
            logger.debug("publish failed", metadata: ["error": "\(error)"])
        }
    }

    /// The transport never closes a NATS session by itself: the Client restarts it (see `restartSession`).
    func close(reason: String) {}
}
