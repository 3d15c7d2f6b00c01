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

    /// Sleeps with `Task.sleep`, at most a day at a time: a far or infinite deadline (`.infinity`: until
    /// cancelled) is waited for in steps, never converted to a duration whole (which traps).
    public func sleep(until deadline: Double) async throws {
        while true {
            let delta = deadline - now()
            guard delta > 0 else { return }  // also NaN
            try await Task.sleep(for: .milliseconds(Int64((min(delta, 86_400) * 1000).rounded(.up))))
        }
    }
}
