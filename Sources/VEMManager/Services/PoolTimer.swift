import Logging
import Synchronization
import ServiceLifecycle

/// Moves the pool's time on between rebalances (``VEMPool/Reconciler/tick(now:)``): operations without an
/// outcome time out, failed registrations and destroys are retried after their back-off, and VMs whose Client
/// never joined are destroyed — also at a site that steers VMs only by hand, with no `policy.rebalance()`. It
/// also asks each Dom0 Client for its domains (`vm.list`) after it joins and every minute, to reconcile the
/// inventory with what the hosts run.
public final class PoolTimer: Service, Sendable {
    let pool: PoolController
    let sender: Sender
    let state: ManagerState
    let clock: any ManagerClock
    /// Seconds of Manager time between two ticks (default 10).
    let interval: Double
    private let schedule: TickSchedule

    init(pool: PoolController, sender: Sender, state: ManagerState, clock: any ManagerClock, interval: Double = 10) {
        self.pool = pool
        self.state = state
        self.sender = sender
        self.clock = clock
        self.interval = interval
        schedule = TickSchedule(next: clock.now() + interval)
    }

    /// Ticks every ``interval`` until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                // Wakes a test that asked to catch up before the timer started: nothing is due before this.
                self.schedule.ticked(next: self.clock.now() + self.interval)
                while !Task.isCancelled {
                    let next = self.schedule.next
                    try await self.clock.sleep(until: next)
                    await self.tickOnce()
                    self.schedule.ticked(next: max(next + self.interval, self.clock.now()))
                }
            }
        } catch is CancellationError {
            // Shut down: nothing to finish.
        }
    }

    /// One tick: what it produced goes to the Sender (journaled, then sent), then the hosts due are listed.
    /// Counted as Manager activity while it runs.
    func tickOnce() async {
        sender.activity.jobQueued()
        defer { sender.activity.jobDone() }
        let now = clock.now()
        let snapshot = state.poolSnapshot(at: now)
        let outcome = await pool.tick(snapshot, now: now)
        if !outcome.dispatches.isEmpty || !outcome.decisions.isEmpty { sender.enqueuePool(outcome) }
        let hosts = await pool.hostsToList(snapshot, now: now, tickInterval: interval)
        if !hosts.isEmpty { sender.enqueueLists(hosts) }
    }

    /// Returns once every tick due by `time` has run (at once when none is due by then). Tests call it after
    /// advancing their clock, instead of polling.
    public func caughtUp(to time: Double) async {
        await schedule.caughtUp(to: time)
    }
}
