import Foundation
import Synchronization
import VEMManager

/// The demo's clock: trace time at the rates of a ``CompressedClock`` that **waits for the Manager**. Simulated
/// time moves in steps of about a millisecond of wall time, and only
/// - up to the earliest deadline a sleeper (a trigger's tick, the debounce of updates, a Client's collection)
///   waits for, and on past it once that sleeper has woken (so nothing due at an instant is skipped), and
/// - while the ``barrier`` says the Manager is quiet (``VEMManager/ManagerActivity/isQuiet``: no Sender job,
///   command outcome, property reply or update pass pending), twice in a row.
///
/// So the Manager has handled what is due at an instant before the clock leaves it, on a fast machine or a slow
/// one. A hold longer than ``maximumHold`` of wall time (a Client that never answers) is let go and counted.
public final class PacedClock: ManagerClock {
    /// The rates (virtual seconds per wall second, in phases).
    public let rates: CompressedClock
    /// The longest wall time the Manager may hold the clock.
    public let maximumHold: Duration

    private struct State {
        var running = false
        var virtual: Double
        var effective = 0.0
        var sleepers: [Int: Sleeper] = [:]
        var nextSleeper = 0
        var quietTicks = 0
        var heldSince: ContinuousClock.Instant?
        var forced = 0
        var held = Duration.zero
        var barrier: @Sendable () -> Bool = { true }
        /// Tasks waiting in ``waitForSleepers(_:)``: how many sleepers each waits for.
        var sleeperWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// A task waiting for a deadline: registered until it has woken and gone on.
    private struct Sleeper {
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>?
        var cancelled = false
    }

    private let state: Mutex<State>
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    /// A clock at `rates.origin`, standing until ``start()``.
    public init(rates: CompressedClock, maximumHold: Duration = .seconds(2)) {
        self.rates = rates
        self.maximumHold = maximumHold
        state = Mutex(State(virtual: rates.origin))
    }

    deinit { ticker.withLock { $0?.cancel() } }

    /// What the clock waits for before moving on (default: nothing).
    public func setBarrier(_ barrier: @escaping @Sendable () -> Bool) { state.withLock { $0.barrier = barrier } }

    /// Holds let go after ``maximumHold``, and the wall time the clock stood still for the Manager in all.
    public var holds: (forced: Int, total: Duration) { state.withLock { ($0.forced, $0.held) } }

    /// Sleepers registered now (waiting for their deadline, or woken and not yet gone on).
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Returns once at least `count` sleepers are registered: a test steps the clock (``advance(by:at:)``) only
    /// after the task it drives has started to sleep, without polling.
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                guard s.sleepers.count < count else { return true }
                s.sleeperWaiters.append((count, c))
                return false
            }
            if now { c.resume() }
        }
    }

    /// Starts the clock moving: a ticker calls ``advance(by:at:)`` about every millisecond (`ticking` false: the
    /// caller does, as tests do).
    public func start(ticking: Bool = true) {
        state.withLock { $0.running = true }
        guard ticking else { return }
        let task = Task.detached { [weak self] in
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(1))
                let now = ContinuousClock.now
                guard let self else { return }
                self.advance(by: now - last, at: now)
                last = now
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Stops the clock (it stays where it is).
    public func stop() {
        ticker.withLock { $0?.cancel() }
        state.withLock { $0.running = false }
    }

    /// One step of the ticker: `elapsed` wall time passed, and it is `now`. The clock moves on by `elapsed` at its
    /// rate, up to the earliest deadline still waited for, if no sleeper is still due and the barrier said quiet
    /// at this step and the one before; it moves on anyway once held longer than ``maximumHold``.
    public func advance(by elapsed: Duration, at now: ContinuousClock.Instant) {
        let barrier = state.withLock { $0.barrier }
        let quiet = barrier()
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            step(&s, elapsed: elapsed, now: now, quiet: quiet)
            var due: [CheckedContinuation<Void, any Error>] = []
            for (id, sleeper) in s.sleepers where sleeper.deadline <= s.virtual {
                if let c = sleeper.continuation {
                    due.append(c)
                    s.sleepers[id]?.continuation = nil
                }
            }
            return due
        }
        for c in due { c.resume() }
    }

    private func step(_ s: inout State, elapsed: Duration, now: ContinuousClock.Instant, quiet: Bool) {
        guard s.running else { return }
        let earliest = s.sleepers.values.map(\.deadline).min()
        let waiting = earliest.map { $0 <= s.virtual } ?? false
        if waiting || !quiet {
            s.quietTicks = 0
            let since = s.heldSince ?? now
            s.heldSince = since
            s.held += elapsed
            guard now - since > maximumHold else { return }
            s.forced += 1  // let go: the Manager or a sleeper is stuck
        } else {
            s.quietTicks += 1
            guard s.quietTicks >= 2 else { return }
        }
        s.heldSince = nil
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var effective = s.effective + seconds
        var virtual = rates.virtualTime(afterWallSeconds: effective)
        if let earliest, earliest > s.virtual, virtual > earliest {
            // Stop at the next deadline: its sleeper runs before the clock goes past it.
            virtual = earliest
            effective = rates.wallSeconds(at: earliest) - rates.wallSeconds(at: rates.origin)
            s.quietTicks = 0  // what the sleeper does once woken must be quiet twice again before going on
        }
        s.effective = max(s.effective, effective)
        s.virtual = max(s.virtual, virtual)
    }

    /// The virtual time now.
    public func now() -> Double { state.withLock { $0.virtual } }

    /// Returns once the clock has reached `deadline`; the clock does not pass it before this sleeper has woken.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sleep(until deadline: Double) async throws {
        guard deadline.isFinite else {
            while true { try await Task.sleep(for: .seconds(60)) }
        }
        let (id, waiters) = state.withLock { s -> (Int?, [CheckedContinuation<Void, Never>]) in
            guard s.virtual < deadline else { return (nil, []) }
            s.nextSleeper += 1
            s.sleepers[s.nextSleeper] = Sleeper(deadline: deadline)
            let due = s.sleeperWaiters.filter { $0.count <= s.sleepers.count }.map(\.continuation)
            s.sleeperWaiters.removeAll { $0.count <= s.sleepers.count }
            return (s.nextSleeper, due)
        }
        for waiter in waiters { waiter.resume() }
        guard let id else { return }
        // Registered until this task goes on: the clock holds at the deadline until then.
        defer { _ = state.withLock { $0.sleepers.removeValue(forKey: id) } }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> Bool? in
                    guard let sleeper = s.sleepers[id], !sleeper.cancelled else { return false }
                    if s.virtual >= deadline { return true }
                    s.sleepers[id]?.continuation = c
                    return nil
                }
                switch outcome {
                case true?: c.resume()
                case false?: c.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                s.sleepers[id]?.cancelled = true
                defer { s.sleepers[id]?.continuation = nil }
                return s.sleepers[id]?.continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }
}
