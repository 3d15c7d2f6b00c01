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
    /// The triggers and what they read, as one configuration gave them; `vem reload` swaps in a new one.
    struct Generation: Sendable {
        /// Counts the swaps (0 for the configuration the Manager started with).
        var number: Int
        var triggers: [CompiledTrigger]
        var groups: [GroupDefinition]
        /// The site's demand properties (`manager.groups` carry the batch system's demand).
        var demandProperties: [(name: String, prefix: String)]
        /// When its ticks count from (the Manager's creation, or the reload).
        var since: Double
        /// The properties the site's files define (`None` on a Client until it reports them).
        var declaredProperties: [String]
        /// Whether any trigger has `on_update_check = yes` (asked on every property report).
        var hasUpdateTriggers: Bool { triggers.contains(where: \.definition.onUpdateCheck) }
    }

    let state: ManagerState
    let sender: Sender
    let clock: any ManagerClock
    let logger: Logger
    private let current: Mutex<Generation>
    private let stats: Mutex<[TriggerStats]>
    private let passLock = Mutex(())
    private let updates: AsyncStream<Void>
    private let updatesContinuation: AsyncStream<Void>.Continuation
    private let passes = Atomic<Int>(0)
    /// The generation's number, and the periodic schedule waiting to hear that it changed.
    private let swaps = Mutex<(number: Int, waiters: [Int: CheckedContinuation<Void, Never>], next: Int)>((0, [:], 0))
    /// The least Manager time between two on-update passes (the debounce), in seconds.
    let updateInterval: Double
    /// The batch demand last decoded (reused while the reading has not changed).
    private let decodedDemand = Mutex<PoolInputs.DecodedBatch?>(nil)
    /// The pool's VMs now (`manager.vms`).
    let poolVMs: @Sendable () -> [VMReport]
    /// Where evaluations are counted and timed (nil: nowhere).
    let metrics: ManagerMetrics?

    init(
        triggers: [CompiledTrigger], groups: [GroupDefinition], state: ManagerState, sender: Sender,
        clock: any ManagerClock, logger: Logger, updateInterval: Double = 1,
        demandProperties: [(name: String, prefix: String)] = [], declaredProperties: [String] = [],
        poolVMs: @escaping @Sendable () -> [VMReport] = { [] }, metrics: ManagerMetrics? = nil
    ) {
        self.metrics = metrics
        self.poolVMs = poolVMs
        self.updateInterval = updateInterval
        self.state = state
        self.sender = sender
        self.clock = clock
        self.logger = logger
        current = Mutex(
            Generation(
                number: 0, triggers: triggers, groups: groups, demandProperties: demandProperties, since: clock.now(),
                declaredProperties: declaredProperties))
        stats = Mutex(triggers.map(Self.freshStats))
        (updates, updatesContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private static func freshStats(_ t: CompiledTrigger) -> TriggerStats {
        TriggerStats(name: t.name, ticks: t.definition.ticks, onUpdateCheck: t.definition.onUpdateCheck)
    }

    /// The triggers now, in configuration order.
    var triggers: [CompiledTrigger] { current.withLock { $0.triggers } }

    /// Swaps in a new configuration's triggers, groups and demand properties, between two passes (a pass runs
    /// wholly on the old ones or wholly on the new). A trigger kept by name keeps its counters; the new ones'
    /// ticks count from now.
    func swap(
        triggers: [CompiledTrigger], groups: [GroupDefinition], demandProperties: [(name: String, prefix: String)],
        declaredProperties: [String]
    ) {
        let waiters = passLock.withLock { _ -> [CheckedContinuation<Void, Never>] in
            let number = current.withLock { g -> Int in
                g = Generation(
                    number: g.number + 1, triggers: triggers, groups: groups, demandProperties: demandProperties,
                    since: clock.now(), declaredProperties: declaredProperties)
                return g.number
            }
            stats.withLock { all in
                let old = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                all = triggers.map { t in
                    guard var kept = old[t.name] else { return Self.freshStats(t) }
                    kept.ticks = t.definition.ticks
                    kept.onUpdateCheck = t.definition.onUpdateCheck
                    return kept
                }
            }
            decodedDemand.withLock { $0 = nil }
            return swaps.withLock { s in
                s.number = number
                defer { s.waiters = [:] }
                return Array(s.waiters.values)
            }
        }
        for waiter in waiters { waiter.resume() }
        updatesContinuation.yield()  // the new on-update triggers see the state at once
    }

    /// Whether any trigger now has `on_update_check = yes`.
    var hasUpdateTriggers: Bool { current.withLock { $0.hasUpdateTriggers } }

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
                    group.addTask { await self.periodic() }
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
            let generation = current.withLock { $0 }
            let due = generation.triggers.indices.filter { generation.triggers[$0].definition.onUpdateCheck }
            pass(due, of: generation.number, reason: "update")
        }
    }

    /// Runs the current generation's schedule until a reload swaps in another, then the new one's.
    private func periodic() async {
        while !Task.isCancelled {
            let generation = current.withLock { $0 }
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try? await self.schedule(generation)
                    return false
                }
                group.addTask {
                    await self.waitForSwap(after: generation.number)
                    return true
                }
                for await swapped in group where swapped { break }
                group.cancelAll()
            }
        }
    }

    /// Returns once the generation is no longer `number` (or the task is cancelled).
    private func waitForSwap(after number: Int) async {
        let id = swaps.withLock { s -> Int in
            s.next += 1
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = swaps.withLock { s -> Bool in
                    if s.number != number || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            swaps.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Each periodic trigger of `generation` every `ticks` seconds from its start; returns when it has none.
    private func schedule(_ generation: Generation) async throws {
        // Ticks count from the generation's start, so a clock advanced before this task runs still makes the
        // first tick due.
        let triggers = generation.triggers
        var due: [Int: Double] = [:]
        for (i, trigger) in triggers.enumerated() where trigger.definition.ticks > 0 {
            due[i] = generation.since + Double(trigger.definition.ticks)
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // No periodic trigger (a site without groups, or only on-update triggers): nothing to wait for here;
            // the on-update task runs until shutdown.
            guard let next = due.values.min() else { return }
            try await clock.sleep(until: next)
            let now = clock.now()
            let ready = due.filter { $0.value <= now }.keys.sorted()
            pass(ready, of: generation.number, reason: "tick")
            for i in ready {
                let ticks = Double(triggers[i].definition.ticks)
                var nextDue = (due[i] ?? now) + ticks
                if nextDue <= now { nextDue = now + ticks }  // fell behind: skip the missed ticks
                due[i] = nextDue
            }
        }
    }

    /// Evaluates the triggers at `indices` against one snapshot.
    /// (A pass for an older generation than the current one is skipped: a reload came in between.)
    func pass(_ indices: [Int], of number: Int, reason: String) {
        guard !indices.isEmpty else { return }
        passLock.withLock { _ in
            let generation = current.withLock { $0 }
            guard generation.number == number else { return }
            let now = clock.now()
            // Built at the first read of `manager` in this pass (many passes never read it).
            let manager = LazyManagerObject { [self] in
                let snapshot = state.snapshot(at: now)
                let demand = decodedDemand.withLock { cache in
                    try? PoolInputs.batch(in: snapshot, configured: generation.demandProperties, cache: &cache).get().batch
                }
                return WorldView(
                    snapshot, groups: generation.groups, demand: demand, pool: poolVMs(),
                    declaredProperties: generation.declaredProperties
                ).managerObject
            }
            for i in indices { evaluate(generation.triggers[i], index: i, manager: manager, at: now) }
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
        metrics?.triggerEvaluated(trigger.name, result: failure != nil ? "error" : fired ? "true" : "false", duration: elapsed)
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
