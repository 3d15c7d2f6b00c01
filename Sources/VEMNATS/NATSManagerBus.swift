import Logging
import Synchronization
import VEMBus
import VEMProtocol

/// The Manager's side of the bus over NATS: the same contract and engine as the hub (``ManagerEngine``), with
/// Clients' sessions carried as envelopes on per-Client subjects (see ``NATSSubjects`` and ``NATSEnvelope``).
///
/// Membership: a session joins with its `hello`; it ends with `bye`, a newer session of the same Client, silence
/// for ``NATSBusConfiguration/livenessTimeout`` (the bus's own heartbeats — a server killed with SIGKILL takes
/// its Clients' DISCONNECT events with it), or a `$SYS` DISCONNECT event for its connection (with a system user).
public final class NATSManagerBus: ManagerBus {
    /// The shared Manager engine.
    public let engine: ManagerEngine
    /// The configuration.
    public let configuration: NATSBusConfiguration
    /// The site's subjects.
    public let subjects: NATSSubjects
    let logger: Logger
    let table = Mutex<[String: SessionEntry]>([:])
    private let connections = Mutex<(main: NATSConnection?, system: NATSConnection?)>((nil, nil))
    private let timer = Mutex<Task<Void, Never>?>(nil)
    private let counters = Mutex(Counters())
    /// The address of each Client connection, from `$SYS` CONNECT advisories (with a system user).
    let connectAddresses = Mutex<[ConnectionKey: String]>([:])

    /// What the bus dropped, for tests and `vem bench`.
    public struct Counters: Hashable, Sendable {
        /// Payloads that did not decode.
        public var malformed = 0
        /// Messages of a session that is not the Client's current one (dropped).
        public var stale = 0
        /// Sessions closed because a `$SYS` DISCONNECT event named their connection.
        public var systemDisconnects = 0
        /// Publishes that failed (closed connection, full reconnect buffer).
        public var publishFailures = 0
    }

    /// Creates the bus (``start()`` connects).
    /// - Parameters:
    ///   - configuration: Servers, credentials, site, engine tuning.
    ///   - logger: For membership changes and dropped input (never payloads or passwords).
    ///   - messageHandler: Receives regular messages synchronously instead of ``events``.
    /// - Throws: ``NATSError/Code/invalidSubjectToken`` for a bad site name.
    public init(
        configuration: NATSBusConfiguration, logger: Logger = Logger(label: "vem.bus.nats"),
        messageHandler: ManagerEngine.MessageHandler? = nil
    ) throws(NATSError) {
        self.configuration = configuration
        self.logger = logger
        subjects = try NATSSubjects(site: configuration.site)
        let box = FanOutBox()
        engine = ManagerEngine(
            configuration: configuration.engine, logger: logger, messageHandler: messageHandler,
            fanOut: { message, links in box.bus?.fanOut(message, to: links) })
        box.bus = self
    }

    /// Connects, subscribes to `vem.<site>.manager.*` (and the `$SYS` events with a system user), and starts the
    /// heartbeat and liveness timer.
    /// - Throws: ``NATSError`` when a server cannot be reached or refuses the user.
    public func start() async throws(NATSError) {
        let main = try await NATSConnection.connect(
            configuration.connection,
            handlers: NATSConnectionHandlers(
                disconnected: { [logger] in logger.warning("manager lost its NATS connection; reconnecting") },
                reconnected: { [weak self] in
                    // Messages published while disconnected may be lost: every stream resends what is
                    // unacknowledged (the Clients drop duplicates).
                    self?.logger.info("manager reconnected to NATS")
                    self?.engine.retransmit()
                },
                error: { [logger] error in logger.warning("NATS error", metadata: ["error": "\(error)"]) }))
        connections.withLock { $0.main = main }
        try main.subscribe(subjects.managerWildcard) { [self] view in receive(view) }
        try await main.flush()
        if let system = configuration.system {
            let connection = try await NATSConnection.connect(system)
            connections.withLock { $0.system = connection }
            let prefix = "$SYS.ACCOUNT.\(configuration.account)"
            try connection.subscribe("\(prefix).CONNECT") { [self] view in systemConnect(view) }
            try connection.subscribe("\(prefix).DISCONNECT") { [self] view in systemDisconnect(view) }
            try await connection.flush()
        }
        let interval = configuration.engine.heartbeatInterval
        timer.withLock { $0 = Task { [weak self] in await self?.tickLoop(interval: interval) } }
    }

    /// Says `bye` to every Client, closes the connections and ends the event stream.
    public func shutdown() async {
        timer.withLock { $0 }?.cancel()
        publish(NATSEnvelope(session: 0, messages: [.bye(Bye(reason: "manager shutdown"))]), to: subjects.all)
        let (main, system) = connections.withLock { c in defer { c = (nil, nil) }; return c }
        if let main { try? await main.flush(timeout: .seconds(1)) }
        await system?.close()
        await main?.close()
        let links = table.withLock { table in table.values.compactMap(\.link) }
        for link in links { closeLink(link, reason: "manager shutdown") }
        engine.finish()
    }

    func systemDisconnects() { counters.withLock { $0.systemDisconnects += 1 } }

    /// What was dropped so far.
    public var counts: Counters { counters.withLock { $0 } }

    // MARK: ManagerBus

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

    /// Sends a regular message: to a Client's subject, or once to the group's or the broadcast subject.
    @discardableResult
    public func send(_ message: Message, to recipients: Recipients) -> Int {
        switch recipients {
        case .client, .clients:
            return engine.send(message, to: recipients)
        case .group(let group):
            let count = engine.members().count { recipients.includes($0) }
            if count > 0, (try? NATSSubjects.validate(token: group, what: "group")) != nil {
                publish(NATSEnvelope(session: 0, messages: [message]), to: subjects.group(group))
            }
            return count
        case .all:
            let count = table.withLock { $0.values.count { $0.link != nil } }
            if count > 0 { publish(NATSEnvelope(session: 0, messages: [message]), to: subjects.all) }
            return count
        }
    }

    /// Submits a command to a Client's reliable command stream.
    public func submit(_ name: String, arguments: [NamedValue], to client: String) throws(BusError) -> PendingCommand {
        try engine.submit(name, arguments: arguments, to: client)
    }

    /// A property round (one publish on `vem.<site>.all` when every Client is asked).
    public func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration
    ) async -> PropertyRoundResult {
        await engine.collectProperties(names, from: recipients, timeout: timeout)
    }

    // MARK: Transport

    func fanOut(_ message: Message, to links: [any ManagerLink]) {
        let live = table.withLock { $0.values.count { $0.link != nil } }
        if links.count > 1 && links.count >= live {
            publish(NATSEnvelope(session: 0, messages: [message]), to: subjects.all)
        } else {
            for link in links { link.transmit([message]) }
        }
    }

    func publish(_ envelope: NATSEnvelope, to subject: String) {
        guard let main = connections.withLock({ $0.main }) else { return }
        let (bytes, dropped) = envelope.encoded(maximumFrameSize: configuration.maximumFrameSize)
        if dropped > 0 { logger.warning("message over the frame size not sent", metadata: ["subject": "\(subject)"]) }
        do throws(NATSError) {
            try main.publish(subject, bytes)
        } catch {
            counters.withLock { $0.publishFailures += 1 }
        }
    }

    /// Ends a session: forgets it, tells the engine, and tells the Client (its next message starts a new session).
    func closeLink(_ link: NATSManagerLink, reason: String) {
        guard !link.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        table.withLock { table in
            if table[link.name]?.link === link { table[link.name]?.link = nil }
        }
        link.phase.withLock { engine.linkClosed(phase: &$0, link: link, reason: reason) }
        publish(NATSEnvelope(session: link.session, messages: [.bye(Bye(reason: reason))]), to: subjects.client(link.name))
    }

    private func receive(_ view: NATSMessageView) {
        guard let name = subjects.clientName(fromManagerSubject: view.subject) else { return }
        let envelope: NATSEnvelope
        let failure: ProtocolError?
        do throws(ProtocolError) {
            (envelope, failure) = try NATSEnvelope.decodePrefix(
                view.payload, maximumFrameSize: configuration.maximumFrameSize)
        } catch {
            reject(peer: "nats:\(name)", reason: "\(error)")
            return
        }
        let now = monotonicNanoseconds()
        let current = table.withLock { $0[name]?.link }
        if let current, current.session == envelope.session {
            current.lastHeard.store(now, ordering: .relaxed)
            if deliver(envelope.messages, on: current), let failure { closeLink(current, reason: "\(failure)") }
            return
        }
        guard case .hello(let hello)? = envelope.messages.first else {
            if let failure {
                reject(peer: "nats:\(name)#\(String(envelope.session, radix: 16))", reason: "\(failure)")
                return
            }
            counters.withLock { $0.stale += 1 }
            // An unknown session (older than the current one, or the Manager restarted): ask for a new hello.
            if current == nil || envelope.session > current?.session ?? 0 {
                publish(
                    NATSEnvelope(session: envelope.session, messages: [.bye(Bye(reason: "unknown session"))]),
                    to: subjects.client(name))
            }
            return
        }
        let link = NATSManagerLink(
            name: name, session: envelope.session, incarnation: hello.incarnation, note: envelope.note,
            peerAddress: address(of: envelope.note), bus: self)
        guard hello.name == name else {
            // The subject names the NATS user's Client; a hello for another name is an impersonation attempt.
            link.transmit([.reject(Reject(.forbidden, detail: "hello name does not match the NATS subject"))])
            reject(peer: link.peer, reason: "forbidden: hello for '\(hello.name)' on the subject of '\(name)'")
            return
        }
        let (fresh, previous) = table.withLock { table -> (Bool, NATSManagerLink?) in
            if let entry = table[name], entry.incarnation == hello.incarnation,
                envelope.session <= entry.newestSession
            {
                return (false, nil)
            }
            let previous = table[name]?.link
            table[name] = SessionEntry(link: link, incarnation: hello.incarnation, newestSession: envelope.session)
            return (true, previous)
        }
        guard fresh else {
            counters.withLock { $0.stale += 1 }
            return
        }
        if let previous { closeLink(previous, reason: "the client opened a new session") }
        if deliver(envelope.messages, on: link), let failure { closeLink(link, reason: "\(failure)") }
    }

    /// Input that never became a session: reported like a connection closed before admission.
    private func reject(peer: String, reason: String) {
        counters.withLock { $0.malformed += 1 }
        let link = RejectedLink(peer: peer)
        var phase = LinkPhase.awaitingHello
        engine.linkClosed(phase: &phase, link: link, reason: reason)
    }

    /// Hands messages to the engine; `false` when the session ended on one of them.
    private func deliver(_ messages: [Message], on link: NATSManagerLink) -> Bool {
        for message in messages {
            let action = link.phase.withLock { engine.handle(message, phase: &$0, link: link) }
            if case .close(let reason) = action {
                closeLink(link, reason: reason)
                return false
            }
        }
        return true
    }

    private func tickLoop(interval: Duration) async {
        // Declared gone within 2 intervals of the last message (as on the hub): silent for the timeout (1.5
        // intervals by default), checked every quarter of an interval (or of the timeout, if shorter).
        let timeout = (configuration.livenessTimeout ?? interval * 1.5).nanoseconds
        let period = min(interval / 4, .nanoseconds(Int64(clamping: timeout / 6)))
        var lastHeartbeat = monotonicNanoseconds()
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            let now = monotonicNanoseconds()
            if now &- lastHeartbeat >= interval.nanoseconds {
                lastHeartbeat = now
                publish(NATSEnvelope(session: 0, messages: [.heartbeat(Heartbeat())]), to: subjects.all)
                // NATS delivers at most once (a slow consumer, a route between servers going down): what a
                // session lost is resent once an interval; Clients drop duplicates.
                engine.retransmit(unresolvedOnly: true)
            }
            let silent = table.withLock { table in
                table.values.compactMap(\.link).filter { now &- $0.lastHeard.load(ordering: .relaxed) > timeout }
            }
            for link in silent { closeLink(link, reason: "heartbeat timeout") }
        }
    }
}

/// The link of input that never became a session (for the engine's `connectionRejected` event).
private final class RejectedLink: ManagerLink {
    let peer: String
    init(peer: String) { self.peer = peer }
    func transmit(_ messages: [Message]) {}
    func close(reason: String) {}
}

/// Lets the engine's fan-out closure reach the bus that owns the engine (set once, right after init).
private final class FanOutBox: @unchecked Sendable {
    // @unchecked: written once in NATSManagerBus.init before the engine can call it, read-only afterwards.
    weak var bus: NATSManagerBus?
}
