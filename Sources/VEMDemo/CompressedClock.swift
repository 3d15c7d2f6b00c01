import Foundation
import Synchronization
import VEMManager

/// A ``VEMManager/ManagerClock`` that runs at a time compression: virtual seconds (the replay batch's trace
/// time) per wall-clock second, in phases (the demo replays its window at one rate and what follows it at a
/// faster one). It stands at its origin until ``start()``; from then on ``now()`` moves with the wall clock, and
/// ``sleep(until:)`` waits the wall time that the virtual interval takes. The Manager on this clock keeps idle
/// timeouts, minimum lifetimes and trigger ticks in trace time, and the replay batch reads the same clock.
public final class CompressedClock: ManagerClock {
    /// One phase: from virtual time `from` on, `rate` virtual seconds pass per wall second.
    public struct Phase: Sendable, Hashable {
        /// Where the phase begins (virtual seconds).
        public var from: Double
        /// Virtual seconds per wall second (> 0).
        public var rate: Double

        /// Creates a phase.
        public init(from: Double, rate: Double) {
            self.from = from
            self.rate = rate
        }
    }

    /// The virtual time before ``start()``.
    public let origin: Double
    /// The phases, by their start; the first begins at ``origin``.
    public let phases: [Phase]
    private let started = Mutex<ContinuousClock.Instant?>(nil)

    /// A clock at `origin` whose rates are `phases` (sorted here; phases before `origin` and rates that are not
    /// positive and finite are dropped; with none left the clock runs at 1 virtual second per wall second).
    public init(origin: Double, phases: [Phase]) {
        self.origin = origin
        var kept = phases.filter { $0.rate.isFinite && $0.rate > 0 && $0.from.isFinite }.sorted { $0.from < $1.from }
        let first = kept.last { $0.from <= origin }?.rate ?? kept.first?.rate ?? 1
        kept.removeAll { $0.from <= origin }
        self.phases = [Phase(from: origin, rate: first)] + kept
    }

    /// Starts the clock moving (again from ``origin`` when called twice).
    public func start() { started.withLock { $0 = ContinuousClock.now } }

    /// The virtual time `wall` seconds after the start.
    public func virtualTime(afterWallSeconds wall: Double) -> Double {
        var t = origin
        var left = max(0, wall)
        for (i, phase) in phases.enumerated() {
            let end = i + 1 < phases.count ? phases[i + 1].from : .infinity
            let span = (end - t) / phase.rate
            if left <= span { return t + left * phase.rate }
            left -= span
            t = end
        }
        return t
    }

    /// The wall seconds after the start at which the clock shows `virtual`.
    public func wallSeconds(at virtual: Double) -> Double {
        var wall = 0.0
        for (i, phase) in phases.enumerated() {
            let end = i + 1 < phases.count ? phases[i + 1].from : .infinity
            if virtual <= end { return wall + max(0, virtual - phase.from) / phase.rate }
            wall += (end - phase.from) / phase.rate
        }
        return wall
    }

    /// The virtual time now: ``origin`` before ``start()``.
    public func now() -> Double {
        guard let s = started.withLock({ $0 }) else { return origin }
        let elapsed = ContinuousClock.now - s
        return virtualTime(
            afterWallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Waits the wall time until ``now()`` reaches `deadline` (polling every 10 ms before ``start()``).
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sleep(until deadline: Double) async throws {
        while now() < deadline {
            try Task.checkCancellation()
            guard let s = started.withLock({ $0 }), deadline.isFinite else {
                try await Task.sleep(for: .milliseconds(started.withLock { $0 } == nil ? 10 : 60_000))
                continue
            }
            // A microsecond past the exact instant, so the virtual time read on waking has passed the deadline.
            let wall = wallSeconds(at: deadline) + 1e-6
            try await Task.sleep(until: s + .nanoseconds(Int64(wall * 1e9)), clock: .continuous)
        }
    }
}
