import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The Client's real clock: `CLOCK_MONOTONIC` (it does not jump when the wall clock is set) for schedules, rates
/// and durations, anchored to the wall clock once at creation for timestamps on the wire. Everything in the
/// plugin layer that needs time is given a ``VEMCore/Timeline`` (this one, or a ``VEMCore/ManualTimeline`` in
/// tests and simulations); only differences between two readings mean something.
public struct MonotonicClock: Timeline {
    private let anchorMonotonic: Double
    private let anchorUnix: Double

    /// Creates the clock and anchors it to the wall clock now.
    public init() {
        anchorMonotonic = Self.monotonicSeconds()
        anchorUnix = Date().timeIntervalSince1970
    }

    /// Seconds since an arbitrary point (usually boot).
    public func now() -> Double { Self.monotonicSeconds() }

    /// Sleeps until `deadline` (at most a billion seconds at a time).
    public func sleep(until deadline: Double) async throws {
        let remaining = deadline - now()
        if remaining > 0 { try await Task.sleep(for: .nanoseconds(Int64(min(remaining, 1e9) * 1e9))) }
    }

    /// The wall-clock time of a monotonic reading.
    public func unixTime(at time: Double) -> Double { anchorUnix + (time - anchorMonotonic) }

    /// `CLOCK_MONOTONIC` in seconds.
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
