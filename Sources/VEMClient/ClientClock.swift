import Foundation
import Synchronization
import VEMAgent

/// The Client's time: the monotonic ``VEMAgent/AgentClock`` the plugins use, a way to wait for a point on
/// it (the Reader's schedule), and the wall-clock time of a point (timestamps on the wire).
///
/// Production uses ``SystemClientClock``; tests use ``ManualClientClock`` and never sleep.
public protocol ClientClock: AgentClock {
    /// Returns once ``now()`` has reached `deadline`.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Double) async throws

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

/// A clock that moves only when told to: sleepers wake when ``advance(by:)`` passes their deadline.
public final class ManualClientClock: ClientClock {
    private struct Sleeper {
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Double
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
    private let unixOrigin: Double

    /// Creates a clock.
    /// - Parameters:
    ///   - start: The time it shows first.
    ///   - unixOrigin: The Unix time of reading 0 (default 1,700,000,000: November 2023).
    public init(start: Double = 0, unixOrigin: Double = 1_700_000_000) {
        state = Mutex(State(now: start))
        self.unixOrigin = unixOrigin
    }

    /// The time last set.
    public func now() -> Double { state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock (tests wait for a service to be idle).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline a task sleeps until, if any.
    public var nextDeadline: Double? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Waits until ``advance(by:)`` reaches `deadline`.
    public func sleep(until deadline: Double) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline <= state.now { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves the clock forward and wakes the sleepers whose deadline has passed.
    /// - Parameter seconds: How far (negative amounts are ignored).
    public func advance(by seconds: Double) {
        let woken = state.withLock { state -> [Sleeper] in
            state.now += max(0, seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// `unixOrigin + time`.
    public func unixTime(at time: Double) -> Double { unixOrigin + time }
}
