import Synchronization
import VEMBatch

/// A ``VEMBatch/ReplayBatch`` shared by the batch Client's plugins and run against the wall clock: simulated
/// time is the replay's origin plus the wall seconds since start × the compression. Every operation first moves
/// the replay to the current simulated time. Thread-safe (a mutex around the value).
public final class LiveReplay: Sendable {
    private let state: Mutex<ReplayBatch>
    private let clock: @Sendable (ReplayBatch) -> Int

    /// Wraps a replay that follows the wall clock at its configured compression.
    /// - Parameters:
    ///   - batch: the replay, at its origin.
    ///   - elapsed: wall seconds since the replay started (injected: tests feed it by hand).
    public init(batch: ReplayBatch, elapsed: @escaping @Sendable () -> Double) {
        state = Mutex(batch)
        clock = { $0.simulatedTime(afterWallSeconds: max(0, elapsed())) }
    }

    /// Wraps a replay whose simulated time is given by `simulatedNow` (trace seconds; any pace the caller likes).
    public init(batch: ReplayBatch, simulatedNow: @escaping @Sendable () -> Int) {
        state = Mutex(batch)
        clock = { _ in simulatedNow() }
    }

    /// Runs `body` on the replay, moved to the current simulated time first.
    public func withBatch<T>(_ body: (inout ReplayBatch) throws -> T) rethrows -> T {
        try state.withLock { batch in
            batch.advance(to: clock(batch))
            return try body(&batch)
        }
    }

    /// The demand and nodes of every group now.
    public func snapshot() -> BatchSnapshot { withBatch { $0.snapshot() } }

    /// The current simulated time.
    public var now: Int { withBatch { $0.now } }
}
