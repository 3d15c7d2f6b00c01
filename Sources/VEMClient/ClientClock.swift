import Foundation
import VEMAgent
import VEMCore

/// The Client's time: the monotonic ``VEMAgent/AgentClock`` the plugins use, a way to wait for a point on
/// it (the Reader's schedule), and the wall-clock time of a point (timestamps on the wire).
///
/// Production uses ``SystemClientClock``; tests use ``ManualClientClock`` and never sleep.
public protocol ClientClock: AgentClock, Timeline {
    /// The Unix time (seconds since 1970) of a point on this clock, for timestamps on the wire.
    func unixTime(at time: Double) -> Double
}

/// The real clock: `CLOCK_MONOTONIC` for schedules, anchored to the wall clock once at creation.
public struct SystemClientClock: ClientClock {
    private let monotonic = SystemAgentClock()
    private let anchorMonotonic: Double
    private let anchorUnix: Double

    /// Creates the clock and anchors it to the wall clock now.
    public init() {
        anchorMonotonic = monotonic.now()
        anchorUnix = Date().timeIntervalSince1970
    }

    /// Seconds on the monotonic clock.
    public func now() -> Double { monotonic.now() }

    /// Sleeps on the system's continuous clock until `deadline`.
    public func sleep(until deadline: Double) async throws {
        let remaining = deadline - now()
        if remaining > 0 { try await Task.sleep(for: .nanoseconds(Int64(min(remaining, 1e9) * 1e9))) }
    }

    /// The wall-clock time of a monotonic reading.
    public func unixTime(at time: Double) -> Double { anchorUnix + (time - anchorMonotonic) }
}

/// A clock that moves only when told to (a ``VEMCore/ManualTimeline``): sleepers wake when ``advance(by:)``
/// passes their deadline.
public final class ManualClientClock: ClientClock {
    private let timeline: ManualTimeline
    private let unixOrigin: Double

    /// Creates a clock.
    /// - Parameters:
    ///   - start: The time it shows first.
    ///   - unixOrigin: The Unix time of reading 0 (default 1,700,000,000: November 2023).
    public init(start: Double = 0, unixOrigin: Double = 1_700_000_000) {
        timeline = ManualTimeline(start: start)
        self.unixOrigin = unixOrigin
    }

    /// The time last set.
    public func now() -> Double { timeline.now() }

    /// How many tasks are sleeping on this clock (tests wait for a service to be idle).
    public var sleeperCount: Int { timeline.sleeperCount }

    /// The earliest deadline a task sleeps until, if any.
    public var nextDeadline: Double? { timeline.nextDeadline }

    /// Waits until ``advance(by:)`` reaches `deadline`.
    public func sleep(until deadline: Double) async throws { try await timeline.sleep(until: deadline) }

    /// Moves the clock forward and wakes the sleepers whose deadline has passed.
    /// - Parameter seconds: How far (negative amounts are ignored).
    public func advance(by seconds: Double) { timeline.advance(by: seconds) }

    /// `unixOrigin + time`.
    public func unixTime(at time: Double) -> Double { unixOrigin + time }
}
