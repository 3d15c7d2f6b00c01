import Foundation
import VEMCore

/// The Manager's source of time: wall-clock seconds since 1970 (journal timestamps, property ages) and a way to
/// wait until a moment. Injected, so tests drive time with a ``ManualClock`` and never sleep.
public typealias ManagerClock = Timeline

/// A Manager clock that moves only when told to: a ``VEMCore/ManualTimeline`` (tests start it at a plausible
/// wall time, such as 1,700,000,000).
public typealias ManualClock = ManualTimeline

/// The real clock.
public struct SystemClock: ManagerClock {
    /// Creates the system clock.
    public init() {}

    /// `Date().timeIntervalSince1970`.
    public func now() -> Double { Date().timeIntervalSince1970 }

    /// Sleeps with `Task.sleep`; an infinite deadline sleeps until cancelled (a site with no ticking trigger).
    public func sleep(until deadline: Double) async throws {
        guard deadline.isFinite else {
            while true { try await Task.sleep(for: .seconds(3_600)) }
        }
        let delta = deadline - now()
        if delta > 0 { try await Task.sleep(for: .milliseconds(Int64((delta * 1000).rounded(.up)))) }
    }
}
