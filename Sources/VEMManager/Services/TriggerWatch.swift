import Logging
import ServiceLifecycle
import Synchronization
import VEMConfig
import VEMRules
import VEMSite

/// TriggerWatch (the paper's thread of that name): evaluates each trigger's `expr` every `ticks` seconds and,
/// for triggers with `on_update_check = yes`, whenever properties arrive; when `expr` is truthy it evaluates
/// `cmd`, whose actions go to the Sender with the trigger's name.
///
/// Every pass evaluates against one immutable snapshot of the state. A trigger that fails (an error, its step
/// budget) is counted, reported and skipped; the others go on. Property updates are debounced: at most one
/// on-update pass per second of Manager time, a burst of reports meanwhile causing one more pass, not one per
/// report (the conservative rule: any property update re-evaluates every `on_update_check` trigger).
public final class TriggerWatch: Service, Sendable {
    let triggers: [CompiledTrigger]
    let groups: [GroupDefinition]
    let state: ManagerState
    let sender: Sender
    let clock: any ManagerClock
    let logger: Logger
    private let stats: Mutex<[TriggerStats]>
    private let passLock = Mutex(())
    private let updates: AsyncStream<Void>
    private let updatesContinuation: AsyncStream<Void>.Continuation
    private let passes = Atomic<Int>(0)
    private let createdAt: Double
    /// The least Manager time between two on-update passes (the debounce), in seconds.
    let updateInterval: Double
    /// The site's demand properties (`manager.groups` carry the batch system's demand).
    let demandProperties: [(name: String, prefix: String)]
    /// The batch demand last decoded (reused while the reading has not changed).
    private let decodedDemand = Mutex<PoolInputs.DecodedBatch?>(nil)
    /// The pool's VMs now (`manager.vms`).
    let poolVMs: @Sendable () -> [VMReport]
    /// Whether any trigger has `on_update_check = yes`.
    let hasUpdateTriggers: Bool

    init(
        triggers: [CompiledTrigger], groups: [GroupDefinition], state: ManagerState, sender: Sender,
        clock: any ManagerClock, logger: Logger, updateInterval: Double = 1,
        demandProperties: [(name: String, prefix: String)] = [],
        poolVMs: @escaping @Sendable () -> [VMReport] = { [] }
    ) {
        self.demandProperties = demandProperties
        self.poolVMs = poolVMs
        self.updateInterval = updateInterval
        self.triggers = triggers
        hasUpdateTriggers = triggers.contains(where: \.definition.onUpdateCheck)
        self.groups = groups
        self.state = state
        self.sender = sender
        self.clock = clock
        self.logger = logger
        createdAt = clock.now()
        stats = Mutex(triggers.map { TriggerStats(name: $0.name, ticks: $0.definition.ticks, onUpdateCheck: $0.definition.onUpdateCheck) })
        (updates, updatesContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// `count` property readings arrived (called by the Listener).
    func propertiesUpdated(count: Int) {
        guard count > 0, hasUpdateTriggers else { return }
        sender.activity.updateSignalled()
        updatesContinuation.yield()
    }

    /// The counters of every trigger, in configuration order.
    public var triggerStats: [TriggerStats] { stats.withLock { $0 } }

    /// Passes run so far (tests wait on it).
    public var passCount: Int { passes.load(ordering: .acquiring) }

    /// Runs the periodic and the on-update evaluations until graceful shutdown or cancellation. Graceful
    /// shutdown stops it at once: a wait for the next tick (or the debounce) is cancelled, not waited out.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await self.periodic() }
                    group.addTask { await self.onUpdates() }
                }
            }
        } catch is CancellationError {
            // Shut down (gracefully or by cancellation): a pass is never cut in half, there is nothing to finish.
        }
        updatesContinuation.finish()
    }

    /// One pass of the `on_update_check` triggers after properties arrive, at most one per ``updateInterval``
    /// of Manager time: reports arriving meanwhile are coalesced into the next pass.
    private func onUpdates() async {
        let due = triggers.indices.filter { triggers[$0].definition.onUpdateCheck }
        var lastPass = -Double.infinity
        for await _ in updates {
            // Taken: from here the pass waits for its time (the debounce) or runs at once.
            sender.activity.updateTaken()
            let earliest = lastPass + updateInterval
            if clock.now() < earliest {
                sender.activity.updatePassWaiting(true)
                defer { sender.activity.updatePassWaiting(false) }
                do { try await clock.sleep(until: earliest) } catch { return }
            }
            lastPass = clock.now()
            pass(due, reason: "update")
        }
    }

    private func periodic() async throws {
        // Ticks count from creation, so a clock advanced before this task runs still makes the first tick due.
        let start = createdAt
        var due: [Int: Double] = [:]
        for (i, trigger) in triggers.enumerated() where trigger.definition.ticks > 0 {
            due[i] = start + Double(trigger.definition.ticks)
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // No periodic trigger (a site without groups, or only on-update triggers): nothing to wait for here;
            // the on-update task runs until shutdown.
            guard let next = due.values.min() else { return }
            do {
                try await clock.sleep(until: next)
            } catch {
                return
            }
            let now = clock.now()
            let ready = due.filter { $0.value <= now }.keys.sorted()
            pass(ready, reason: "tick")
            for i in ready {
                let ticks = Double(triggers[i].definition.ticks)
                var nextDue = (due[i] ?? now) + ticks
                if nextDue <= now { nextDue = now + ticks }  // fell behind: skip the missed ticks
                due[i] = nextDue
            }
        }
    }

    /// Evaluates the triggers at `indices` against one snapshot.
    func pass(_ indices: [Int], reason: String) {
        guard !indices.isEmpty else { return }
        passLock.withLock { _ in
            let now = clock.now()
            let snapshot = state.snapshot(at: now)
            let demand = decodedDemand.withLock { cache in
                try? PoolInputs.batch(in: snapshot, configured: demandProperties, cache: &cache).get().batch
            }
            let view = WorldView(snapshot, groups: groups, demand: demand, pool: poolVMs())
            let manager = view.managerObject
            for i in indices { evaluate(triggers[i], index: i, manager: manager, at: now) }
            passes.add(1, ordering: .releasing)
        }
    }

    private func evaluate(_ trigger: CompiledTrigger, index: Int, manager: any HostObject, at now: Double) {
        let started = ContinuousClock.now
        let collector = ActionCollector()
        let globals = collector.globals(manager: manager)
        var fired = false
        var failure: RuleError?
        do {
            fired = try trigger.condition.evaluate(globals: globals, limits: trigger.limits, trigger: trigger.name).isTruthy
            if fired {
                let actionCollector = ActionCollector()
                _ = try trigger.action.evaluate(
                    globals: actionCollector.globals(manager: manager), limits: trigger.limits, trigger: trigger.name)
                sender.enqueue(actionCollector.actions, trigger: trigger.name)
                stats.withLock { $0[index].actions += actionCollector.actions.count }
            }
        } catch {
            failure = error
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        stats.withLock { all in
            var s = all[index]
            s.evaluations += 1
            s.lastEvaluation = now
            s.lastDurationMilliseconds = milliseconds
            if let failure {
                s.errors += 1
                if failure.code == .budget { s.budgetExceeded += 1 }
                s.lastResult = "error"
                s.lastError = failure.description
                s.lastErrorTime = now
            } else {
                if fired { s.fired += 1 }
                s.lastResult = fired ? "true" : "false"
            }
            all[index] = s
        }
        if let failure {
            logger.warning(
                "trigger failed", metadata: ["trigger": "\(trigger.name)", "error": "\(failure.description)"])
            state.recordError(failure.description, at: now, source: "trigger:\(trigger.name)")
        }
    }
}
