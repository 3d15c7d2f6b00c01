import Foundation
import VEMCore

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

/// A clock that only moves when told to, for tests and simulations: a ``VEMCore/ManualTimeline``.
public typealias ManualAgentClock = ManualTimeline

extension ManualTimeline: AgentClock {}
