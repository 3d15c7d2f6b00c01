import Dispatch
import GRDB
import Synchronization
import VEMProtocol

/// Journals command results off the transport's event loops, with group commit: the results that arrive while
/// the window is open (or while the previous transaction runs) go into one transaction, and each result's
/// `stored` callback is called once that transaction has committed (the engine then sends `result_ack`).
///
/// A serial dispatch queue of its own does the writing; ``enqueue(client:result:at:stored:)`` never blocks.
final class ResultWriter: Sendable {
    struct Item: Sendable {
        var client: String
        var result: CommandResult
        var time: Double
        var stored: @Sendable () -> Void
    }

    struct State {
        var items: [Item] = []
        var scheduled = false
    }

    private let database: DatabaseQueue
    private let window: DispatchTimeInterval
    private let onWrite: (@Sendable () -> Void)?
    private let onError: @Sendable (String) -> Void
    private let queue = DispatchQueue(label: "vem.journal.results")
    private let state = Mutex(State())
    private let observers: JournalObserverSlot?
    /// The nice steps below the process its transactions run at (``BackgroundPriority``).
    private let niceness: Int?

    /// - Parameters:
    ///   - database: The journal's database.
    ///   - window: How long the first result of a batch waits for others (a few milliseconds).
    ///   - onWrite: Called inside every transaction before it commits (tests slow the journal with it).
    ///   - onError: Told when a transaction fails (its results are confirmed all the same: the bus must not
    ///     hold them forever, and the Sender journals each outcome again).
    ///   - niceness: The nice steps below the process its transactions run at (``BackgroundPriority``; nil: as is).
    init(
        database: DatabaseQueue, window: DispatchTimeInterval, onWrite: (@Sendable () -> Void)?,
        onError: @escaping @Sendable (String) -> Void, observers: JournalObserverSlot? = nil, niceness: Int? = nil
    ) {
        self.niceness = niceness
        self.observers = observers
        self.database = database
        self.window = window
        self.onWrite = onWrite
        self.onError = onError
    }

    /// Queues a result; `stored` runs on the writer's queue after the transaction holding it committed.
    func enqueue(client: String, result: CommandResult, at time: Double, stored: @escaping @Sendable () -> Void) {
        let schedule = state.withLock { state in
            state.items.append(Item(client: client, result: result, time: time, stored: stored))
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.asyncAfter(deadline: .now() + window) { self.flush() } }
    }

    /// Writes everything queued in one transaction (on the writer's queue).
    private func flush() {
        let batch = state.withLock { state in
            defer {
                state.items.removeAll(keepingCapacity: true)
                state.scheduled = false
            }
            return state.items
        }
        guard !batch.isEmpty else { return }
        BackgroundPriority.lowerCurrentThread(by: niceness)
        let started = ContinuousClock.now
        defer { observers?.current?.wrote("record results", ContinuousClock.now - started) }
        do {
            try database.write { db in
                onWrite?()
                for item in batch {
                    let result = item.result
                    let state: CommandState = result.status == .ok ? .done : .failed
                    try db.execute(
                        sql: """
                            UPDATE command SET state = ?, result = ?, updated_at = ?
                            WHERE client = ? AND seq = ? AND state IN ('queued', 'sent', 'acknowledged')
                            """,
                        arguments: [
                            state.rawValue, result.summary, item.time, item.client, Int64(bitPattern: result.seq),
                        ])
                }
            }
        } catch {
            onError("journal: cannot record \(batch.count) results: \(error)")
        }
        for item in batch { item.stored() }
    }
}
