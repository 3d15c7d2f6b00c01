import Foundation

/// The Client's source of time: seconds on a monotonic timeline (they never go backwards).
///
/// Everything in the plugin layer that needs time (rates, schedules, timestamps, durations) is fed
/// it from an `AgentClock`, so that tests drive time with a ``ManualAgentClock`` and never sleep.
/// The origin is arbitrary: only differences between two readings mean something.
public protocol AgentClock: Sendable {
    /// The current time in seconds.
    func now() -> Double
}

/// The real clock: `CLOCK_MONOTONIC`, which does not jump when the wall clock is set.
public struct SystemAgentClock: AgentClock {
    /// Creates the system clock.
    public init() {}

    /// Seconds since an arbitrary point (usually boot).
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A clock that only moves when told to: for tests and simulations.
public final class ManualAgentClock: AgentClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Double

    /// Creates a clock showing `start` seconds.
    public init(start: Double = 0) { current = start }

    /// The time last set.
    public func now() -> Double { lock.withLock { current } }

    /// Moves the clock forward (a negative amount is ignored: the timeline is monotonic).
    /// - Parameter seconds: How far to move.
    public func advance(by seconds: Double) {
        lock.withLock { current += max(0, seconds) }
    }
}
