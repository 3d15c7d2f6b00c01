import Logging
import Synchronization
import ServiceLifecycle

/// Keeps the journal to its retention (`[manager] journal_retention`): every hour of Manager time it deletes the
/// decisions and finished commands older than that (``Journal/prune(before:)``), so a Manager that runs for
/// months keeps a bounded file.
public final class JournalPruner: Service, Sendable {
    let journal: Journal
    let clock: any ManagerClock
    let retention: Double
    let interval: Double
    let logger: Logger
    private let schedule: TickSchedule

    init(journal: Journal, clock: any ManagerClock, retention: Double, interval: Double = 3_600, logger: Logger) {
        self.journal = journal
        self.clock = clock
        self.retention = retention
        self.interval = interval
        self.logger = logger
        schedule = TickSchedule(next: clock.now())
    }

    /// Prunes once now, then every ``interval``, until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                self.schedule.ticked(next: self.clock.now())
                while !Task.isCancelled {
                    let next = self.schedule.next
                    try await self.clock.sleep(until: next)
                    await self.pruneOnce()
                    self.schedule.ticked(next: max(next + self.interval, self.clock.now()))
                }
            }
        } catch is CancellationError {
            // Shut down: nothing to finish.
        }
    }

    /// Returns once every pass due by `time` has run (at once when none is due by then). Tests call it after
    /// advancing their clock, instead of polling.
    public func caughtUp(to time: Double) async {
        await schedule.caughtUp(to: time)
    }

    /// One pruning pass.
    func pruneOnce() async {
        let before = clock.now() - retention
        do {
            let pruned = try await journal.prune(before: before)
            if pruned.decisions + pruned.commands > 0 {
                logger.info(
                    "journal pruned",
                    metadata: ["decisions": "\(pruned.decisions)", "commands": "\(pruned.commands)", "before": "\(before)"])
            }
        } catch {
            logger.error("journal pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
