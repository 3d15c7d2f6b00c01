import Logging
import Synchronization
import VEMBus

/// Outcomes: each command handed to the bus is watched until its outcome arrives; the instance says what it
/// comes to (journal state, what the pool hears), the shell journals it and tells the pool.
extension Sender {
    /// Watches `pending` until its outcome; `followUp` says what the pool is to hear of it.
    func watch(_ pending: PendingCommand, followUp: SenderCore.FollowUp?, in group: inout DiscardingTaskGroup) {
        guard tracker.track(pending) else { return }
        let key = SenderCore.Key(client: pending.client, seq: pending.seq)
        core.withLock { $0.watch(key, followUp: followUp) }
        let started = ContinuousClock.now
        activity.commandSent()
        group.addTask {
            // Settled once its outcome is journaled and what the pool makes of it is queued.
            defer { self.activity.commandSettled() }
            let outcome = await pending.outcome()
            guard self.tracker.finish(pending) else { return }
            self.metrics?.commandFinished(state: Self.stateName(outcome), latency: ContinuousClock.now - started)
            let settlement = self.core.withLock { $0.outcome(outcome, of: key) }
            await self.record(settlement, of: pending)
            self.core.withLock { $0.outcomeJournaled() }
            if let (list, output) = settlement.reconcile {
                let now = self.clock.now()
                let snapshot = self.state.poolSnapshot(at: now)
                let next = await self.pool.hostListed(list, output: output, snapshot: snapshot, now: now)
                if !next.dispatches.isEmpty || !next.decisions.isEmpty { self.enqueuePool(next) }
            }
            if let (operation, error) = settlement.settle {
                self.enqueuePool(await self.pool.settle(operation, error: error, now: self.clock.now()))
            }
        }
    }

    /// Journals an outcome's new state.
    private func record(_ settlement: SenderCore.Settlement, of pending: PendingCommand) async {
        let metadata: Logger.Metadata = [
            "client": "\(pending.client)", "seq": "\(pending.seq)", "state": "\(settlement.state.rawValue)",
        ]
        logger.debug("command outcome", metadata: metadata)
        do {
            try await journal.update(
                client: pending.client, seq: pending.seq, to: settlement.state, result: settlement.summary,
                at: clock.now())
        } catch {
            logger.error("journal write failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            state.recordError("\(error)", at: clock.now(), source: "journal")
        }
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
