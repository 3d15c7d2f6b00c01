import Synchronization

/// VEM's one clock: seconds on a timeline, a way to wait for a point on it, and the Unix time of a point (for
/// timestamps on the wire). The Manager's clock (wall-clock seconds), the Client's (monotonic seconds, anchored to
/// the wall clock) and the demo's (trace seconds) are timelines; tests drive a ``ManualTimeline`` and never sleep.
public protocol Timeline: Sendable {
    /// The current time in seconds (the origin depends on the timeline).
    func now() -> Double
    /// Returns when ``now()`` has reached `deadline` (at once when it already has).
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Double) async throws
    /// The Unix time (seconds since 1970) of a point on this timeline. Default: the reading itself (a wall-clock
    /// timeline, or the demo's trace time).
    func unixTime(at time: Double) -> Double
}

extension Timeline {
    /// The reading itself.
    public func unixTime(at time: Double) -> Double { time }
}

/// A timeline that moves only when told to (``advance(by:)``); sleepers wake when it passes their deadline.
public final class ManualTimeline: Timeline {
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

    /// A timeline showing `start`, whose reading 0 is the Unix time `unixOrigin` (default 0: its readings are Unix
    /// times; a Client's tests use 1,700,000,000).
    public init(start: Double = 0, unixOrigin: Double = 0) {
        state = Mutex(State(now: start))
        self.unixOrigin = unixOrigin
    }

    /// `unixOrigin + time`.
    public func unixTime(at time: Double) -> Double { unixOrigin + time }

    /// The time last set.
    public func now() -> Double { state.withLock { $0.now } }

    /// How many tasks are sleeping now (tests wait for a service to be idle before advancing).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline a task sleeps until, if any.
    public var nextDeadline: Double? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Every deadline a task sleeps until, earliest first (a test sees which waits are pending).
    public var deadlines: [Double] { state.withLock { $0.sleepers.values.map(\.deadline).sorted() } }

    /// Moves the timeline forward and wakes the sleepers whose deadline has passed.
    /// - Parameter seconds: How far (negative amounts are ignored: the timeline never goes back).
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

    /// Waits until the timeline is advanced to `deadline`.
    public func sleep(until deadline: Double) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
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
