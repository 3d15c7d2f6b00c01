import Logging
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

    init(journal: Journal, clock: any ManagerClock, retention: Double, interval: Double = 3_600, logger: Logger) {
        self.journal = journal
        self.clock = clock
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    /// Prunes once now, then every ``interval``, until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await self.pruneOnce()
                    try await self.clock.sleep(until: self.clock.now() + self.interval)
                }
            }
        } catch is CancellationError {
            // Shut down: nothing to finish.
        }
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
