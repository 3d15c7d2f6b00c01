import Logging
import ServiceLifecycle
import Synchronization
import VEMBus
import VEMProtocol

/// The Listener (the paper's thread of that name): takes membership and regular messages from the bus into the
/// state, journals each Client's identity at its join (so a restarted Manager can resume its command stream),
/// and tells TriggerWatch when properties arrive.
public final class Listener: Service, Sendable {
    let bus: any ManagerBus
    let journal: Journal
    let state: ManagerState
    let clock: any ManagerClock
    let logger: Logger
    /// Properties arrived: how many readings (no list of names is made per report).
    let propertiesUpdated: @Sendable (Int) -> Void
    /// Where replies to the Sender's property requests are counted.
    let activity: ManagerActivity?
    /// A DomU Client joined (its identity holds its VM id, group and the address its connection came from).
    let domUJoined: @Sendable (_ identity: ClientIdentity) async -> Void
    /// Messages ``take(_:from:)`` declined that the stream has not handed to ``handle(_:)`` yet: while there
    /// are any, it declines every message, so none overtakes an earlier one.
    private let declined = Atomic<Int>(0)

    init(
        bus: any ManagerBus, journal: Journal, state: ManagerState, clock: any ManagerClock, logger: Logger,
        propertiesUpdated: @escaping @Sendable (Int) -> Void,
        domUJoined: @escaping @Sendable (ClientIdentity) async -> Void = { _ in }, activity: ManagerActivity? = nil
    ) {
        self.activity = activity
        self.domUJoined = domUJoined
        self.bus = bus
        self.journal = journal
        self.state = state
        self.clock = clock
        self.logger = logger
        self.propertiesUpdated = propertiesUpdated
    }

    /// A message from the stream is in the state: one fewer that ``take(_:from:)`` declined (none below zero: on
    /// a bus without ``takeMessages(from:)`` every message comes through the stream, and none was declined).
    private func streamedMessageHandled() {
        var count = declined.load(ordering: .acquiring)
        while count > 0 {
            let (done, now) = declined.compareExchange(
                expected: count, desired: count - 1, ordering: .acquiringAndReleasing)
            if done { return }
            count = now
        }
    }

    /// Consumes bus events until the bus ends them, graceful shutdown, or cancellation.
    ///
    /// Graceful shutdown cancels the loop (one watcher for the whole run), rather than the stream being merged
    /// with the shutdown signal (`cancelOnGracefulShutdown()` on the sequence): a merge hands every element from
    /// one task to another, two task switches per event, 10,000 per poll round at 10,000 Clients.
    public func run() async {
        await cancelWhenGracefulShutdown {
            for await event in self.bus.events { await self.handle(event) }
        }
    }

    /// Takes a regular message on the transport's thread (``VEMBus/ManagerEngine/takeMessages(_:)``): a property
    /// report goes into the state as ``handle(_:)`` would put it, without a task switch through the event stream.
    /// It declines (false: the message goes through the stream, in order) when the state does not hold this
    /// connection yet — its join (or its leaving) is still in the stream — or when messages it declined earlier are
    /// still there.
    func take(_ message: Message, from identity: ClientIdentity) -> Bool {
        let taken: Bool
        if declined.load(ordering: .acquiring) > 0 {
            taken = false
        } else {
            let now = clock.now()
            switch message {
            case .property(let report):
                taken = state.recordPropertiesIfCurrent(report, from: identity, at: now)
                if taken {
                    propertiesUpdated(report.readings.count)
                    if report.requestID >= Sender.firstRequestID { activity?.replyTaken(from: identity.name) }
                }
            default:
                taken = state.seenIfCurrent(identity, at: now)
            }
        }
        if !taken { declined.add(1, ordering: .releasing) }
        return taken
    }

    /// Installs ``take(_:from:)`` on `engine` (before the transport starts: every message the stream then carries
    /// was declined by it).
    func takeMessages(from engine: ManagerEngine) {
        engine.takeMessages { [self] identity, message in take(message, from: identity) }
    }

    /// Handles one bus event.
    func handle(_ event: BusEvent) async {
        let now = clock.now()
        switch event {
        case .join(let identity, let resumed):
            do {
                try await journal.recordClient(identity, at: now)
            } catch where Task.isCancelled {
                return  // shutting down
            } catch {
                logger.error("journal write failed", metadata: ["client": "\(identity.name)", "error": "\(error)"])
                state.recordError("\(error)", at: now, source: "journal")
            }
            state.clientJoined(identity, at: now)
            logger.info(
                "client joined",
                metadata: [
                    "client": "\(identity.name)", "role": "\(identity.role.name)", "host": "\(identity.host)",
                    "resumed": "\(resumed)",
                ])
            if identity.role == .domU, identity.vmID != nil { await domUJoined(identity) }
        case .leave(let name, let reason):
            state.clientGone(name, reason: "left: \(reason)", at: now)
            activity?.clientGone(name)
            logger.info("client left", metadata: ["client": "\(name)", "reason": "\(reason)"])
        case .disconnect(let name, let reason):
            state.clientGone(name, reason: "disconnected: \(reason)", at: now)
            activity?.clientGone(name)
            logger.info("client disconnected", metadata: ["client": "\(name)", "reason": "\(reason)"])
        case .connectionRejected(let peer, let reason):
            state.connectionRejected()
            state.recordError("connection from \(peer) refused: \(reason)", at: now, source: "bus")
            logger.warning("connection refused", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        case .message(let name, .property(let report)):
            state.recordProperties(report, from: name, at: now)
            propertiesUpdated(report.readings.count)
            if report.requestID >= Sender.firstRequestID { activity?.replyTaken(from: name) }
            streamedMessageHandled()
        case .message(let name, _):
            state.clientSeen(name, at: now)
            streamedMessageHandled()
        }
    }
}
