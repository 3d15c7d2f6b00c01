import Foundation
import Synchronization

/// The Manager's source of time: wall-clock seconds since 1970 (journal timestamps, property ages) and a way to
/// wait until a moment. Injected, so tests drive time with a ``ManualClock`` and never sleep.
public protocol ManagerClock: Sendable {
    /// Seconds since 1970-01-01 UTC.
    func now() -> Double
    /// Returns when ``now()`` has reached `deadline` (at once when it already has).
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(until deadline: Double) async throws
}

/// The real clock.
public struct SystemClock: ManagerClock {
    /// Creates the system clock.
    public init() {}

    /// `Date().timeIntervalSince1970`.
    public func now() -> Double { Date().timeIntervalSince1970 }

    /// Sleeps with `Task.sleep`.
    public func sleep(until deadline: Double) async throws {
        let delta = deadline - now()
        if delta > 0 { try await Task.sleep(for: .milliseconds(Int64((delta * 1000).rounded(.up)))) }
    }
}

/// A clock that moves only when told to (``advance(by:)``); sleepers wake when it passes their deadline.
public final class ManualClock: ManagerClock {
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

    /// A clock showing `start` (default 1,700,000,000: a plausible wall time).
    public init(start: Double = 1_700_000_000) { state = Mutex(State(now: start)) }

    /// The time last set.
    public func now() -> Double { state.withLock { $0.now } }

    /// How many tasks are sleeping now (tests wait for a service to be idle before advancing).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Moves the clock forward and wakes the sleepers whose deadline has passed.
    /// - Parameter seconds: How far (negative amounts are ignored).
    public func advance(by seconds: Double) {
        let woken: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            state.now += max(0, seconds)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits until the clock is advanced past `deadline`.
    public func sleep(until deadline: Double) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state -> Bool in
                    if state.now >= deadline || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
