import Dispatch
import Logging
import ServiceLifecycle
import Synchronization
import VEMBus
import VEMProtocol

/// The Sender (the paper's thread of that name): carries out the actions triggers asked for, in order — property
/// requests as regular messages, commands through each Client's reliable command stream — and journals every
/// command before it leaves (`queued`), when it is handed to the stream (`sent`) and when its outcome arrives
/// (`done`, `failed`, `unknown`). Each command row names the trigger that caused it.
///
/// A shell around its instance, ``SenderCore``, which makes every decision (what to queue, the numbers, the
/// journal state of an outcome and what the pool makes of it); the shell owns the bus, the journal, the pool and
/// the clock and does the I/O: the queue and its run loop here, the actions in `Sender+Actions.swift`, the
/// journal-then-bus hand-off in `Sender+Submit.swift`, the outcomes in `Sender+Outcomes.swift`.
public final class Sender: Service, Sendable {
    enum Job: Sendable {
        /// A trigger's actions; `tick` is when the trigger's pass began (``Sender/uptimeNanoseconds()``).
        case actions([TriggerAction], trigger: String, tick: UInt64)
        case recovered([PendingCommand])
        /// The pool's outcomes merged in ``PoolInbox`` batch `number`.
        case pool(number: Int)
        case lists([PoolController.HostList])
    }

    /// A command to send.
    typealias Request = SenderCore.Request

    /// The Sender's property requests are numbered from here on (a Client's scheduled reports carry 0).
    static let firstRequestID = SenderCore.firstRequestID

    let bus: any ManagerBus
    let journal: Journal
    let state: ManagerState
    let clock: any ManagerClock
    let logger: Logger
    let pool: PoolController
    private let inbox: AsyncStream<Job>
    private let inboxContinuation: AsyncStream<Job>.Continuation
    /// The instance.
    let core = Mutex(SenderCore())
    /// The pool's outcomes waiting, merged (``enqueuePool(_:)``); held while a job is queued, so that a batch
    /// takes no outcome queued after another job.
    let poolInbox = Mutex(PoolInbox())
    let tracker = OutcomeTracker()
    /// Where command outcomes and their latency are counted (nil: nowhere).
    let metrics: ManagerMetrics?
    /// Adds a VM's credential to `vm.create` (on the wire only) and revokes it at `vm.destroy`.
    let trust: ManagerTrust

    init(
        bus: any ManagerBus, journal: Journal, state: ManagerState, clock: any ManagerClock, logger: Logger,
        pool: PoolController, metrics: ManagerMetrics? = nil, trust: ManagerTrust = ManagerTrust()
    ) {
        self.trust = trust
        self.metrics = metrics
        self.pool = pool
        self.bus = bus
        self.journal = journal
        self.state = state
        self.clock = clock
        self.logger = logger
        (inbox, inboxContinuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .unbounded)
    }

    /// Queues a trigger's actions (carried out in order, after the ones queued before). At most one
    /// `policy.rebalance()` waits in the queue: one asked for while another has not started yet is dropped, since
    /// the queued one reads the state when it runs, later than this request (it keeps its own trigger's name).
    /// `tick` is when the trigger's pass began (default: now), what ``PassTimings`` measures a `vm.create` from.
    public func enqueue(_ actions: [TriggerAction], trigger: String, tick: UInt64? = nil) {
        let actions = core.withLock { $0.enqueue(actions) }
        guard !actions.isEmpty else { return }
        post(.actions(actions, trigger: trigger, tick: tick ?? Self.uptimeNanoseconds()))
    }

    /// The monotonic clock's reading (`CLOCK_MONOTONIC`, as `DispatchTime` and `NIODeadline` read it: comparable
    /// across the processes of one machine), nanoseconds.
    public static func uptimeNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// `policy.rebalance()` requests dropped because one was already queued (see ``enqueue(_:trigger:)``).
    public var rebalancesCoalesced: Int { core.withLock { $0.rebalancesCoalesced } }

    /// Queues a job, counted in ``activity`` until it has been carried out.
    private func post(_ job: Job) {
        poolInbox.withLock { inbox in
            inbox.close()
            postLocked(job)
        }
    }

    /// ``post(_:)`` with ``poolInbox`` held.
    private func postLocked(_ job: Job) {
        activity.jobQueued()
        switch inboxContinuation.yield(job) {
        case .enqueued: break
        case .dropped, .terminated: activity.jobDone()
        @unknown default: break
        }
    }

    /// Sets the numbering of a recovered stream and watches its commands' outcomes.
    func adopt(_ stream: RecoveredStream, pendings: [PendingCommand]) {
        core.withLock {
            $0.adopt(client: stream.identity.name, through: stream.startingAfter + UInt64(stream.commands.count))
        }
        post(.recovered(pendings))
    }

    /// Queues `vm.list` to these hosts (their domains are reconciled with the pool's inventory).
    func enqueueLists(_ hosts: [PoolController.HostList]) {
        post(.lists(hosts))
    }

    /// Queues the commands and decisions of the pool (follow-ups of an outcome, a DomU join); the journal's
    /// inventory is rewritten even when there are none, since the VM's stage changed. Outcomes queued one after
    /// the other, with no other job between them, are carried out as one job (``PoolInbox``).
    func enqueuePool(_ outcome: PoolController.Outcome) {
        poolInbox.withLock { inbox in
            if let number = inbox.add(outcome) { postLocked(.pool(number: number)) }
        }
    }

    /// Commands handed to the bus and property requests sent, since start.
    var counts: (commands: Int, propertyRequests: Int) {
        core.withLock { ($0.commandsSent, $0.propertyRequests) }
    }

    /// Commands journaled and handed to the bus, their outcomes journaled, and property requests sent, since
    /// start (`vem bench manager` reads them).
    public var progress: (commands: Int, outcomes: Int, propertyRequests: Int) {
        core.withLock { ($0.commandsSent, $0.outcomesRecorded, $0.propertyRequests) }
    }

    /// How long each `policy.rebalance()` took (`vem bench manager` reads them).
    public let passTimings = PassTimings()
    /// What the Manager still has to do (the demo's clock waits for it to be quiet).
    public let activity = ManagerActivity()

    /// The journal's name of an outcome's state (`done`, `failed`, `unknown`).
    static func stateName(_ outcome: CommandOutcome) -> String { SenderCore.stateName(outcome) }

    /// Runs until graceful shutdown or cancellation. Commands still waiting for an outcome keep their journal
    /// state (`sent`) for the next start.
    public func run() async {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await job in inbox {
                    // Cancelled: stop now rather than work through what is queued (an AsyncStream hands out its
                    // buffered elements even to a cancelled task). What was sent keeps its journal state.
                    if Task.isCancelled { break }
                    for (pending, followUp) in await carryOut(job) { watch(pending, followUp: followUp, in: &group) }
                    activity.jobDone()
                }
            } onGracefulShutdown: {
                self.stop()
            }
            stop()
        }
    }

    /// Carries out one job; the commands it handed to the bus, with what the pool is to hear of their outcome.
    private func carryOut(_ job: Job) async -> [(PendingCommand, SenderCore.FollowUp?)] {
        switch job {
        case .actions(let actions, let trigger, let tick):
            var sent: [(PendingCommand, SenderCore.FollowUp?)] = []
            var rest = actions[...]
            while let action = rest.first {
                // A run of commands is journaled together (one transaction before, one after).
                let commands = rest.prefix { if case .command = $0 { true } else { false } }
                if commands.count > 1 {
                    sent += await performCommands(Array(commands), trigger: trigger).map { ($0, nil) }
                    rest = rest.dropFirst(commands.count)
                    continue
                }
                sent += await perform(action, trigger: trigger, tick: tick)
                rest = rest.dropFirst()
            }
            return sent
        case .recovered(let pendings):
            return pendings.map { ($0, nil) }
        case .pool(let number):
            return await carryOut(poolInbox.withLock { $0.take(number) })
        case .lists(let hosts):
            return await askForLists(hosts)
        }
    }

    /// Ends the inbox and releases every outcome waiter (their outcomes are not journaled after this).
    func stop() {
        inboxContinuation.finish()
        tracker.stop()
    }
}
