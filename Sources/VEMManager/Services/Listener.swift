import Logging
import ServiceLifecycle
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
        case .message(let name, _):
            state.clientSeen(name, at: now)
        }
    }
}
