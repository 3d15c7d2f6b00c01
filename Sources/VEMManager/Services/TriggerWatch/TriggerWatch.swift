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
/// A shell around its instance, ``TriggerSchedule``, which decides what is due when: the shell owns the clock,
/// sleeps until the schedule's next wake-up or until something happens (properties arrive, a reload), feeds
/// that to the schedule and evaluates the triggers it names (`TriggerWatch+Evaluate.swift`).
///
/// Every pass evaluates against one immutable snapshot of the state. A trigger that fails (an error, its step
/// budget) is counted, reported and skipped; the others go on. Property updates are debounced: at most one
/// on-update pass per second of Manager time, a burst of reports meanwhile covered by that one pass (the
/// conservative rule: any property update re-evaluates every `on_update_check` trigger).
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
        /// The triggers as the schedule sees them.
        var entries: [TriggerSchedule.Entry] {
            triggers.map { .init(ticks: $0.definition.ticks, onUpdate: $0.definition.onUpdateCheck) }
        }
    }

    /// The shell's side of the schedule: the instance, and what has happened that it has not been told yet.
    struct Inbox: Sendable {
        var schedule: TriggerSchedule
        /// A swapped-in generation, not yet given to the schedule.
        var reload: Generation?
        /// A step is between reading the schedule and finishing its passes.
        var stepping = false
        /// When the last step ran.
        var lastStep = -Double.infinity
        /// The time the shell sleeps until.
        var armed = Double.infinity
        /// Tests waiting for the shell to catch up with the clock (see ``caughtUp(to:)``).
        var waiters = ClockWaiters()
    }

    let state: ManagerState
    let sender: Sender
    let clock: any ManagerClock
    let logger: Logger
    let current: Mutex<Generation>
    let stats: Mutex<[TriggerStats]>
    let passLock = Mutex(())
    /// Held through a step: steps run one at a time.
    private let stepLock = Mutex(())
    let inbox: Mutex<Inbox>
    /// Properties arrived since the last step.
    private let updateSignalled = Atomic<Bool>(false)
    /// The schedule holds an on-update pass that waits out its debounce (``TriggerSchedule/updatePassWaiting``),
    /// as of the last step: set under the inbox's lock, cleared there before the pass reads the state.
    private let updatePassWaiting = Atomic<Bool>(false)
    /// Steps run so far (tests: a report covered by a waiting pass wakes nobody).
    let steps = Atomic<Int>(0)
    private let doorbell = Doorbell()
    /// Rung when a step brings the schedule's next wake-up before the one the clock is armed for.
    private let rearm = Doorbell()
    let passes = Atomic<Int>(0)
    /// The least Manager time between two on-update passes (the debounce), in seconds.
    let updateInterval: Double
    /// The batch demand last decoded (reused while the reading has not changed).
    let decodedDemand = Mutex<PoolInputs.DecodedBatch?>(nil)
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
        let generation = Generation(
            number: 0, triggers: triggers, groups: groups, demandProperties: demandProperties, since: clock.now(),
            declaredProperties: declaredProperties)
        current = Mutex(generation)
        stats = Mutex(triggers.map(Self.freshStats))
        let schedule = TriggerSchedule(generation.entries, since: generation.since, updateInterval: updateInterval)
        inbox = Mutex(Inbox(schedule: schedule))
    }

    static func freshStats(_ t: CompiledTrigger) -> TriggerStats {
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
        passLock.withLock { _ in
            let generation = current.withLock { g -> Generation in
                g = Generation(
                    number: g.number + 1, triggers: triggers, groups: groups, demandProperties: demandProperties,
                    since: clock.now(), declaredProperties: declaredProperties)
                return g
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
            inbox.withLock { $0.reload = generation }
        }
        doorbell.ring()
    }

    /// Whether any trigger now has `on_update_check = yes`.
    var hasUpdateTriggers: Bool { current.withLock { $0.hasUpdateTriggers } }

    /// `count` property readings arrived (called by the Listener, once per report, after the state holds them).
    /// While an earlier report's signal waits for its step, that step covers these readings too: no lock is taken
    /// and the doorbell is not rung again (10,000 replies of a poll round would otherwise take both locks 10,000
    /// times). While an on-update pass waits out its debounce, that pass covers them: nothing is signalled and
    /// nobody is woken (telling the schedule would change nothing; a wake-up of the doorbell's task for each
    /// report of a poll round was 7 % of a quiet round's Manager CPU at 10,000 Clients). The flag is cleared
    /// before that pass reads the state, so a reading this call does not signal is one the pass sees.
    func propertiesUpdated(count: Int) {
        guard count > 0 else { return }
        if updatePassWaiting.load(ordering: .acquiring) { return }
        guard updateSignalled.load(ordering: .acquiring) || hasUpdateTriggers else { return }
        sender.activity.updateSignalled()
        // Whoever turns the signal on rings; the step turns it off before it reads the state.
        if !updateSignalled.exchange(true, ordering: .acquiringAndReleasing) { doorbell.ring() }
    }

    /// The counters of every trigger, in configuration order.
    public var triggerStats: [TriggerStats] { stats.withLock { $0 } }

    /// Passes run so far.
    public var passCount: Int { passes.load(ordering: .acquiring) }

    /// Whether an on-update pass waits out its debounce, as of the last step.
    var isUpdatePassWaiting: Bool { updatePassWaiting.load(ordering: .acquiring) }

    /// When the schedule next wants to run a pass (nil: not before something happens).
    var nextWake: Double? { inbox.withLock { $0.schedule.nextWake } }

    /// Runs the periodic and the on-update evaluations until graceful shutdown or cancellation. Graceful
    /// shutdown stops it at once: a wait for the next tick (or the debounce) is cancelled, not waited out.
    /// (A pass is never cut in half: there is nothing to finish.)
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            self.step()
            await withDiscardingTaskGroup { group in
                group.addTask { await self.answerDoorbell() }
                group.addTask { await self.keepTime() }
            }
        }
    }

    /// Steps whenever something happens: properties arrive, a reload.
    private func answerDoorbell() async {
        while !Task.isCancelled {
            if await doorbell.wait() { step() }
        }
    }

    /// Sleeps until the schedule's next wake-up, then steps (on the task that woke, so a clock that waits for its
    /// sleepers sees the pass begin at once). The sleep is left alone when something happens meanwhile, and
    /// re-armed only when a step brings the wake-up forward (a debounced pass, a reload).
    private func keepTime() async {
        while !Task.isCancelled {
            let wake = inbox.withLock { inbox -> Double in
                inbox.armed = inbox.schedule.nextWake ?? .infinity
                return inbox.armed
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    guard (try? await self.clock.sleep(until: wake)) != nil else { return }
                    self.step()
                }
                group.addTask { _ = await self.rearm.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Tells the schedule what happened (a reload, properties arriving) and that it is now, then runs the passes
    /// it asks for. Counted as Manager activity while it runs.
    func step() {
        sender.activity.jobQueued()
        defer { sender.activity.jobDone() }
        stepLock.withLock { _ in stepLocked() }
    }

    /// One step, alone (the doorbell's task and the clock's may both step).
    private func stepLocked() {
        steps.add(1, ordering: .relaxed)
        let tick = Sender.uptimeNanoseconds()
        let now = clock.now()
        let arrived = updateSignalled.exchange(false, ordering: .acquiringAndReleasing)
        if arrived { sender.activity.updateTaken() }
        var debounceEnd = now
        let actions = inbox.withLock { inbox -> [TriggerSchedule.Action] in
            inbox.stepping = true
            debounceEnd = min(now, inbox.schedule.lastUpdatePass + updateInterval)
            var actions: [TriggerSchedule.Action] = []
            if let g = inbox.reload {
                inbox.reload = nil
                actions += inbox.schedule.reload(g.entries, generation: g.number, since: g.since, at: now)
            }
            if arrived { actions += inbox.schedule.propertiesArrived(at: now) }
            actions += inbox.schedule.tick(at: now)
            updatePassWaiting.store(inbox.schedule.updatePassWaiting, ordering: .releasing)
            return actions
        }
        for case .evaluate(let indices, let generation, let reason) in actions {
            // An on-update pass is due when the debounce ended (or when the properties came, if later: the bench
            // takes the later of the two); a periodic one when the step runs.
            let late = reason == .update && debounceEnd.isFinite ? min(max(0, now - debounceEnd), 3_600) : 0
            let due = tick - min(tick, UInt64(late * 1e9))
            pass(indices, of: generation, reason: reason.rawValue, tick: due)
        }
        let (waiting, earlier) = inbox.withLock { inbox -> ([CheckedContinuation<Void, Never>], Bool) in
            inbox.stepping = false
            inbox.lastStep = max(inbox.lastStep, now)
            sender.activity.updatePassWaiting(inbox.schedule.updatePassWaiting)
            let done = inbox.waiters.take { $0 <= now }
            return (done, (inbox.schedule.nextWake ?? .infinity) < inbox.armed)
        }
        if earlier { rearm.ring() }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once everything due by `time` has been evaluated: at once when the schedule has nothing due by
    /// then and nothing waits to be told to it, else after the step that handles it. Tests call it after
    /// advancing their clock, instead of polling.
    public func caughtUp(to time: Double) async {
        await ClockWaiters.wait { id, continuation in
            inbox.withLock { inbox -> Bool in
                let idle =
                    !inbox.stepping && inbox.reload == nil && !updateSignalled.load(ordering: .acquiring)
                    && (inbox.schedule.nextWake.map { $0 > time } ?? true)
                if idle || inbox.lastStep >= time && !inbox.stepping { return true }
                inbox.waiters.add(id: id, time: time, continuation)
                return false
            }
        } cancel: { [self] id in
            inbox.withLock { $0.waiters.remove(id: id) }
        }
    }
}
