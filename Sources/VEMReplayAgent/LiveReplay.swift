import Synchronization
import VEMBatch

/// A ``VEMBatch/ReplayBatch`` shared by the batch Client's plugins and run against the wall clock: simulated
/// time is the replay's origin plus the wall seconds since start × the compression. Every operation first moves
/// the replay to the current simulated time. Thread-safe (a mutex around the value).
public final class LiveReplay: Sendable {
    private let state: Mutex<ReplayBatch>
    private let elapsed: @Sendable () -> Double

    /// Wraps a replay.
    /// - Parameters:
    ///   - batch: the replay, at its origin.
    ///   - elapsed: wall seconds since the replay started (injected: tests feed it by hand).
    public init(batch: ReplayBatch, elapsed: @escaping @Sendable () -> Double) {
        state = Mutex(batch)
        self.elapsed = elapsed
    }

    /// Runs `body` on the replay, moved to the current simulated time first.
    public func withBatch<T>(_ body: (inout ReplayBatch) throws -> T) rethrows -> T {
        let wall = elapsed()
        return try state.withLock { batch in
            batch.advance(to: batch.simulatedTime(afterWallSeconds: max(0, wall)))
            return try body(&batch)
        }
    }

    /// The demand and nodes of every group now.
    public func snapshot() -> BatchSnapshot { withBatch { $0.snapshot() } }

    /// The current simulated time.
    public var now: Int { withBatch { $0.now } }
}
