import Logging
import ServiceLifecycle
import Synchronization
import VEMBus
import VEMProtocol

/// The Sender (the paper's thread of that name): carries out the actions triggers asked for, in order — property
/// requests as regular messages, commands through each Client's reliable command stream — and journals every
/// command before it leaves (`queued`), when it is handed to the stream (`sent`) and when its outcome arrives
/// (`done`, `failed`, `unknown`). Each command row names the trigger that caused it.
public final class Sender: Service, Sendable {
    enum Job: Sendable {
        case actions([TriggerAction], trigger: String)
        case recovered([PendingCommand])
        case pool(PoolController.Outcome)
        case lists([PoolController.HostList])
    }

    private struct Counters {
        var lastSeq: [String: UInt64] = [:]
        var nextRequestID: UInt64 = Sender.firstRequestID
        var commandsSent = 0
        var outcomesRecorded = 0
        var propertyRequests = 0
        /// What each trigger's last `policy.rebalance()` that changed nothing was journaled as.
        var quietRebalance: [String: String] = [:]
        /// A `policy.rebalance()` is queued and has not started: another one asked for meanwhile is dropped.
        var rebalanceQueued = false
        /// Rebalances dropped because one was already queued.
        var rebalancesCoalesced = 0
    }

    /// The Sender's property requests are numbered from here on (a Client's scheduled reports carry 0).
    static let firstRequestID: UInt64 = 1 << 62

    let bus: any ManagerBus
    let journal: Journal
    let state: ManagerState
    let clock: any ManagerClock
    let logger: Logger
    let pool: PoolController
    private let inbox: AsyncStream<Job>
    private let inboxContinuation: AsyncStream<Job>.Continuation
    private let counters = Mutex(Counters())
    private let tracker = OutcomeTracker()
    /// The pool operation each command carries out, by its pending command.
    private let operations = Mutex<[ObjectIdentifier: Int]>([:])
    /// The host list (`vm.list`) each command asks for, by its pending command.
    private let lists = Mutex<[ObjectIdentifier: PoolController.HostList]>([:])
    /// Where command outcomes and their latency are counted (nil: nowhere).
    let metrics: ManagerMetrics?

    init(
        bus: any ManagerBus, journal: Journal, state: ManagerState, clock: any ManagerClock, logger: Logger,
        pool: PoolController, metrics: ManagerMetrics? = nil
    ) {
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
    public func enqueue(_ actions: [TriggerAction], trigger: String) {
        var actions = actions
        if actions.contains(.rebalance) {
            let queued = counters.withLock { c in
                defer { c.rebalanceQueued = true }
                if c.rebalanceQueued { c.rebalancesCoalesced += 1 }
                return c.rebalanceQueued
            }
            if queued {
                // Keep the first of this list's rebalances only if none is queued; drop them all otherwise.
                actions.removeAll { $0 == .rebalance }
            } else if let first = actions.firstIndex(of: .rebalance) {
                actions = actions.enumerated().filter { $0.offset <= first || $0.element != .rebalance }.map(\.element)
            }
        }
        guard !actions.isEmpty else { return }
        post(.actions(actions, trigger: trigger))
    }

    /// `policy.rebalance()` requests dropped because one was already queued (see ``enqueue(_:trigger:)``).
    public var rebalancesCoalesced: Int { counters.withLock { $0.rebalancesCoalesced } }

    /// Queues a job, counted in ``activity`` until it has been carried out.
    private func post(_ job: Job) {
        activity.jobQueued()
        switch inboxContinuation.yield(job) {
        case .enqueued: break
        case .dropped, .terminated: activity.jobDone()
        @unknown default: break
        }
    }

    /// Sets the numbering of a recovered stream and watches its commands' outcomes.
    func adopt(_ stream: RecoveredStream, pendings: [PendingCommand]) {
        counters.withLock { $0.lastSeq[stream.identity.name] = stream.startingAfter + UInt64(stream.commands.count) }
        post(.recovered(pendings))
    }

    /// Commands handed to the bus and property requests sent, since start.
    var counts: (commands: Int, propertyRequests: Int) {
        counters.withLock { ($0.commandsSent, $0.propertyRequests) }
    }

    /// Commands journaled and handed to the bus, their outcomes journaled, and property requests sent, since
    /// start (`vem bench manager` reads them).
    public var progress: (commands: Int, outcomes: Int, propertyRequests: Int) {
        counters.withLock { ($0.commandsSent, $0.outcomesRecorded, $0.propertyRequests) }
    }

    /// How long each `policy.rebalance()` took (`vem bench manager` reads them).
    public let passTimings = PassTimings()
    /// What the Manager still has to do (the demo's clock waits for it to be quiet).
    public let activity = ManagerActivity()

    /// Runs until graceful shutdown or cancellation. Commands still waiting for an outcome keep their journal
    /// state (`sent`) for the next start.
    public func run() async {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await job in inbox {
                    // Cancelled: stop now rather than work through what is queued (an AsyncStream hands out its
                    // buffered elements even to a cancelled task). What was sent keeps its journal state.
                    if Task.isCancelled { break }
                    switch job {
                    case .actions(let actions, let trigger):
                        var rest = actions[...]
                        while let action = rest.first {
                            // A run of commands is journaled together (one transaction before, one after).
                            let commands = rest.prefix { if case .command = $0 { true } else { false } }
                            if commands.count > 1 {
                                for pending in await performCommands(Array(commands), trigger: trigger) {
                                    watch(pending, in: &group)
                                }
                                rest = rest.dropFirst(commands.count)
                                continue
                            }
                            for pending in await perform(action, trigger: trigger) { watch(pending, in: &group) }
                            rest = rest.dropFirst()
                        }
                    case .recovered(let pendings):
                        for pending in pendings { watch(pending, in: &group) }
                    case .pool(let outcome):
                        for pending in await carryOut(outcome) { watch(pending, in: &group) }
                    case .lists(let hosts):
                        for pending in await askForLists(hosts) { watch(pending, in: &group) }
                    }
                    activity.jobDone()
                }
            } onGracefulShutdown: {
                self.stop()
            }
            stop()
        }
    }

    /// Ends the inbox and releases every outcome waiter (their outcomes are not journaled after this).
    func stop() {
        inboxContinuation.finish()
        tracker.stop()
    }

    private func watch(_ pending: PendingCommand, in group: inout DiscardingTaskGroup) {
        guard tracker.track(pending) else { return }
        let started = ContinuousClock.now
        activity.commandSent()
        group.addTask {
            // Settled once its outcome is journaled and what the pool makes of it is queued.
            defer { self.activity.commandSettled() }
            let outcome = await pending.outcome()
            guard self.tracker.finish(pending) else { return }
            self.metrics?.commandFinished(state: Self.stateName(outcome), latency: ContinuousClock.now - started)
            await self.record(outcome, of: pending)
            if let list = self.lists.withLock({ $0.removeValue(forKey: ObjectIdentifier(pending)) }) {
                guard case .result(let r) = outcome, r.status == .ok, !r.outputTruncated else { return }
                let now = self.clock.now()
                let snapshot = self.state.snapshot(at: now)
                let next = await self.pool.hostListed(list, output: r.output, snapshot: snapshot, now: now)
                if !next.dispatches.isEmpty || !next.decisions.isEmpty { self.enqueuePool(next) }
            }
            if let operation = self.operations.withLock({ $0.removeValue(forKey: ObjectIdentifier(pending)) }) {
                let error: String? =
                    switch outcome {
                    case .result(let r) where r.status == .ok: nil
                    case .result(let r): r.error ?? "\(r.status)"
                    case .unknown: "outcome unknown: the client went away"
                    case .cancelled: "not sent"
                    }
                let next = await self.pool.settle(operation, error: error, now: self.clock.now())
                self.enqueuePool(next)
            }
        }
    }

    /// Queues `vm.list` to these hosts (their domains are reconciled with the pool's inventory).
    func enqueueLists(_ hosts: [PoolController.HostList]) {
        post(.lists(hosts))
    }

    /// Sends `vm.list` to each host (journaled with the trigger ``PoolController/reconcileTrigger``, all in
    /// one transaction).
    private func askForLists(_ hosts: [PoolController.HostList]) async -> [PendingCommand] {
        let now = clock.now()
        let requests = hosts.map {
            Request(client: $0.host, name: "vm.list", arguments: [], trigger: PoolController.reconcileTrigger)
        }
        var pendings: [PendingCommand] = []
        for (list, result) in zip(hosts, await submit(requests, at: now)) {
            switch result {
            case .success(let pending):
                lists.withLock { $0[ObjectIdentifier(pending)] = list }
                pendings.append(pending)
            case .failure(let error):
                logger.notice("vm.list not sent", metadata: ["client": "\(list.host)", "error": "\(error)"])
            }
        }
        return pendings
    }

    /// Queues the commands and decisions of the pool (follow-ups of an outcome, a DomU join); the journal's
    /// inventory is rewritten even when there are none, since the VM's stage changed.
    func enqueuePool(_ outcome: PoolController.Outcome) {
        post(.pool(outcome))
    }

    /// `policy.rebalance()`: plans, then journals the decisions and sends the commands.
    /// Carries out a pool outcome (`policy.rebalance()`, `vm.*`): its commands, or its refusal with the words
    /// `refusedAs` (`not run`, `refused`). `changed` is false when it sent nothing.
    /// A refusal is logged at notice level, or at debug level when `quiet` (the same refusal as last time).
    private func carryOut(
        _ outcome: PoolController.Outcome, refusedAs: String, action: String, trigger: String, quiet: Bool = false
    ) async -> (reason: String, pendings: [PendingCommand], changed: Bool) {
        if let refusal = outcome.refusal {
            logger.log(
                level: quiet ? .debug : .notice, "\(action) \(refusedAs): \(refusal)", metadata: ["trigger": "\(trigger)"])
            return ("\(refusedAs): \(refusal)", [], false)
        }
        let pendings = await carryOut(outcome)
        let count = outcome.dispatches.count
        return ("planned \(count) operation\(count == 1 ? "" : "s")", pendings, count > 0)
    }

    /// Journals the pool's new decisions, the inventory's changes and its commands (each with its trigger) in
    /// one transaction, sends the commands, then journals their new states in another.
    private func carryOut(_ outcome: PoolController.Outcome) async -> [PendingCommand] {
        let now = clock.now()
        let trigger = outcome.trigger
        let decisions = outcome.decisions.map { d in
            DecisionRecord(
                time: Double(d.time), trigger: trigger, action: d.action.rawValue, reason: d.reason, vm: d.vm,
                group: d.group)
        }
        let inventory = await pool.inventoryChanges(at: now)
        // As the plugins take them: named for `vm.*`, positional for `slurm.*`/`replay.*`.
        let requests = outcome.dispatches.map {
            Request(client: $0.client, name: $0.command.name, arguments: $0.command.arguments, trigger: $0.trigger)
        }
        let results = await submit(requests, decisions: decisions, inventory: inventory, at: now)
        var pendings: [PendingCommand] = []
        for (d, result) in zip(outcome.dispatches, results) {
            switch result {
            case .success(let pending):
                operations.withLock { $0[ObjectIdentifier(pending)] = d.operation.id }
                pendings.append(pending)
                logger.info(
                    "pool command sent",
                    metadata: ["trigger": "\(d.trigger)", "client": "\(d.client)", "command": "\(d.command.name)"])
            case .failure(let error):
                state.recordError("\(d.command): \(error.message)", at: now, source: "trigger:\(d.trigger)")
                enqueuePool(await pool.settle(d.operation.id, error: error.message, now: now))
            }
        }
        return pendings
    }

    /// The journal's name of an outcome's state (`done`, `failed`, `unknown`).
    static func stateName(_ outcome: CommandOutcome) -> String {
        switch outcome {
        case .result(let result): result.status == .ok ? "done" : "failed"
        case .unknown: "unknown"
        case .cancelled: "failed"
        }
    }

    private func record(_ outcome: CommandOutcome, of pending: PendingCommand) async {
        defer { counters.withLock { $0.outcomesRecorded += 1 } }
        let (newState, summary): (CommandState, String) =
            switch outcome {
            case .result(let result): (result.status == .ok ? .done : .failed, result.summary)
            case .unknown: (.unknown, "the client's incarnation ended before its result came back")
            case .cancelled: (.failed, "cancelled before it was sent")
            }
        let metadata: Logger.Metadata = [
            "client": "\(pending.client)", "seq": "\(pending.seq)", "state": "\(newState.rawValue)",
        ]
        logger.debug("command outcome", metadata: metadata)
        do {
            try await journal.update(client: pending.client, seq: pending.seq, to: newState, result: summary, at: clock.now())
        } catch {
            logger.error("journal write failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            state.recordError("\(error)", at: clock.now(), source: "journal")
        }
    }

    /// `sender.send_command(…)` actions of one trigger: journaled, sent and decided on together.
    private func performCommands(_ actions: [TriggerAction], trigger: String) async -> [PendingCommand] {
        let now = clock.now()
        let requests = actions.compactMap { action -> Request? in
            guard case .command(let client, let name, let arguments) = action else { return nil }
            return Request(client: client, name: name, arguments: arguments, trigger: trigger)
        }
        var pendings: [PendingCommand] = []
        var decisions: [DecisionRecord] = []
        for (action, result) in zip(actions, await submit(requests, at: now)) {
            var reason = "expr true"
            switch result {
            case .success(let pending): pendings.append(pending)
            case .failure(let error):
                reason = "refused: \(error.message)"
                state.recordError("\(action): \(error.message)", at: now, source: "trigger:\(trigger)")
            }
            decisions.append(DecisionRecord(time: now, trigger: trigger, action: action.description, reason: reason))
        }
        logger.info("commands sent", metadata: ["trigger": "\(trigger)", "commands": "\(pendings.count)"])
        do { try await journal.record(decisions: decisions, at: now) } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return pendings
    }

    private func perform(_ action: TriggerAction, trigger: String) async -> [PendingCommand] {
        let now = clock.now()
        var metadata: Logger.Metadata = ["trigger": "\(trigger)"]
        var reason = "expr true"
        var pending: PendingCommand?
        var pendings: [PendingCommand] = []
        switch action {
        case .getProperty(let clients, let names):
            let id = counters.withLock { c -> UInt64 in
                c.nextRequestID += 1
                c.propertyRequests += 1
                return c.nextRequestID
            }
            let request = Message.getProperty(GetProperty(requestID: id, names: names))
            var reached = 0
            if let clients {
                for client in clients { reached += bus.send(request, to: .client(client)) }
            } else {
                reached = bus.send(request, to: .all)
            }
            activity.repliesExpected(reached)
            reason += ", reached \(reached) client\(reached == 1 ? "" : "s")"
            logger.debug("get_property sent", metadata: metadata.merging(["clients": "\(reached)"]) { $1 })
        case .command(let client, let name, let arguments):
            metadata["client"] = "\(client)"
            metadata["command"] = "\(name)"
            let request = Request(client: client, name: name, arguments: arguments, trigger: trigger)
            switch await submit([request], at: now).first {
            case .success(let sent)?:
                pending = sent
                metadata["seq"] = "\(sent.seq)"
                logger.info("command sent", metadata: metadata)
            case .failure(let error)?:
                reason = "refused: \(error.message)"
                logger.warning("command not sent", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                state.recordError("\(action): \(error.message)", at: now, source: "trigger:\(trigger)")
            case nil:
                break
            }
        case .log(let text):
            logger.info("trigger log: \(text)", metadata: metadata)
        case .rebalance:
            counters.withLock { $0.rebalanceQueued = false }  // a request from now on plans after this one
            let started = ContinuousClock.now
            let outcome = await pool.rebalance(state.snapshot(at: now), trigger: trigger, now: now)
            // The same refusal at every pass (no batch Client yet) is logged once at notice level, when it starts
            // or changes, not at every poll.
            let sameRefusal = outcome.refusal.map { refusal in
                counters.withLock { $0.quietRebalance[trigger] } == "not run: \(refusal)"
            } ?? false
            let planned = ContinuousClock.now
            let changed: Bool
            (reason, pendings, changed) = await carryOut(
                outcome, refusedAs: "not run", action: "policy.rebalance()", trigger: trigger, quiet: sameRefusal)
            passTimings.record(plan: planned - started, pass: ContinuousClock.now - started)
            // A rebalance that changed nothing is journaled once, not at every pass (the default trigger runs it
            // after every property round): again only when its outcome differs, or after one that acted.
            let repeated = counters.withLock { c -> Bool in
                defer { c.quietRebalance[trigger] = changed ? nil : reason }
                return !changed && c.quietRebalance[trigger] == reason
            }
            if repeated { return pendings }
        case .vm(let request):
            let outcome = await pool.act(request, snapshot: state.snapshot(at: now), trigger: trigger, now: now)
            (reason, pendings, _) = await carryOut(
                outcome, refusedAs: "refused", action: request.description, trigger: trigger)
        }
        do {
            try await journal.recordDecision(
                DecisionRecord(time: now, trigger: trigger, action: action.description, reason: reason))
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return pendings + (pending.map { [$0] } ?? [])
    }

    /// A command to send.
    struct Request: Sendable {
        var client: String
        var name: String
        var arguments: [NamedValue]
        var trigger: String
    }

    /// Journals `requests` as `queued` (with `decisions` and the `inventory`'s changes, in one transaction),
    /// hands each to its Client's command stream, then journals in one more transaction which were `sent` (their
    /// Client connected; the others stay `queued` until it comes back) and which failed. A command to a Client
    /// that never joined is refused before anything is journaled for it.
    private func submit(
        _ requests: [Request], decisions: [DecisionRecord] = [],
        inventory: Journal.InventoryChanges = Journal.InventoryChanges(), at now: Double
    ) async -> [Result<PendingCommand, ManagerError>] {
        var results = [Result<PendingCommand, ManagerError>?](repeating: nil, count: requests.count)
        var predicted = [UInt64](repeating: 0, count: requests.count)
        let known = state.joined(among: requests.map(\.client))
        var new: [Journal.NewCommand] = []
        counters.withLock { c in
            var next: [String: UInt64] = [:]
            for (i, r) in requests.enumerated() {
                guard known.contains(r.client) || c.lastSeq[r.client] != nil else {
                    results[i] = .failure(ManagerError(.bus, "no client named \(r.client) has ever joined"))
                    continue
                }
                let seq = (next[r.client] ?? c.lastSeq[r.client] ?? 0) + 1
                next[r.client] = seq
                predicted[i] = seq
                new.append(
                    Journal.NewCommand(client: r.client, seq: seq, name: r.name, arguments: r.arguments, trigger: r.trigger))
            }
        }
        do {
            try await journal.record(decisions: decisions, inventory: inventory, commands: new, at: now)
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
            for i in requests.indices where results[i] == nil { results[i] = .failure(error) }
            return results.map { $0 ?? .failure(ManagerError(.journal, "not journaled")) }
        }
        var updates: [Journal.CommandUpdate] = []
        for (i, r) in requests.enumerated() where results[i] == nil {
            let pending: PendingCommand
            do {
                pending = try bus.submit(r.name, arguments: r.arguments, to: r.client)
            } catch {
                updates.append(Journal.CommandUpdate(client: r.client, seq: predicted[i], state: .failed, result: "not sent: \(error)"))
                counters.withLock { $0.lastSeq[r.client] = predicted[i] }
                results[i] = .failure(ManagerError(.bus, error.message))
                continue
            }
            counters.withLock {
                $0.lastSeq[r.client] = max(pending.seq, predicted[i])
                $0.commandsSent += 1
            }
            if pending.seq != predicted[i] {
                logger.error(
                    "command stream numbering differs from the journal",
                    metadata: ["client": "\(r.client)", "expected": "\(predicted[i])", "seq": "\(pending.seq)"])
            }
            // A Client that is not connected now gets the command when it comes back (same incarnation: resumed;
            // a new one: it was never sent, so it is sent then): it stays `queued` until then.
            if bus.isConnected(r.client) {
                updates.append(Journal.CommandUpdate(client: r.client, seq: pending.seq, state: .sent))
            } else {
                logger.info(
                    "command queued until the client reconnects", metadata: ["client": "\(r.client)", "seq": "\(pending.seq)"])
            }
            results[i] = .success(pending)
        }
        do {
            try await journal.record(updates: updates, at: clock.now())
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return results.map { $0 ?? .failure(ManagerError(.journal, "not journaled")) }
    }
}

/// The commands whose outcome the Sender waits for; at shutdown every waiter is released.
final class OutcomeTracker: Sendable {
    private struct State {
        var stopped = false
        var waiting: [ObjectIdentifier: PendingCommand] = [:]
    }

    private let state = Mutex(State())

    /// Starts tracking; false after ``stop()``.
    func track(_ pending: PendingCommand) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.waiting[ObjectIdentifier(pending)] = pending
            return true
        }
    }

    /// The outcome arrived; whether it should be recorded (false after ``stop()``).
    func finish(_ pending: PendingCommand) -> Bool {
        state.withLock { state in
            state.waiting[ObjectIdentifier(pending)] = nil
            return !state.stopped
        }
    }

    /// Releases every waiter without recording anything.
    func stop() {
        let waiting = state.withLock { state -> [PendingCommand] in
            state.stopped = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        // Resolving only wakes our waiters: the journal keeps these commands open for the next start.
        for pending in waiting { pending.resolve(.cancelled) }
    }
}
