import Logging
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

    init(pool: PoolController, sender: Sender, state: ManagerState, clock: any ManagerClock, interval: Double = 10) {
        self.pool = pool
        self.state = state
        self.sender = sender
        self.clock = clock
        self.interval = interval
    }

    /// Ticks every ``interval`` until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var next = self.clock.now() + self.interval
                while !Task.isCancelled {
                    try await self.clock.sleep(until: next)
                    await self.tickOnce()
                    next = max(next + self.interval, self.clock.now())
                }
            }
        } catch is CancellationError {
            // Shut down: nothing to finish.
        }
    }

    /// One tick: what it produced goes to the Sender (journaled, then sent), then the hosts due are listed.
    func tickOnce() async {
        let now = clock.now()
        let snapshot = state.snapshot(at: now)
        let outcome = await pool.tick(snapshot, now: now)
        if !outcome.dispatches.isEmpty || !outcome.decisions.isEmpty { sender.enqueuePool(outcome) }
        let hosts = await pool.hostsToList(snapshot, now: now)
        if !hosts.isEmpty { sender.enqueueLists(hosts) }
    }
}
