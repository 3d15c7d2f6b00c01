import Synchronization
import VEMPolicy

/// The pool by group over time, as the planner saw it at each rebalance: what the dashboard draws and `/metrics`
/// reports as each group's demand, target and held VMs. A bounded ring of samples; a sample equal to the last
/// one (but for its time) only moves that one's end time, so a quiet pool keeps hours in few samples.
public final class PoolHistory: Sendable {
    /// One group at one plan.
    public struct Group: Sendable, Hashable, Codable {
        /// The group's name.
        public var group: String
        /// Its share of the pool (0…1).
        public var share: Double
        /// VMs its jobs need (busy + pending).
        public var demand: Int
        /// VMs it should hold.
        public var target: Int
        /// VMs it holds (booting + active).
        public var held: Int
    }

    /// The groups at one plan, and until when nothing changed.
    public struct Sample: Sendable, Hashable, Codable {
        /// When the plan was made (Manager time, seconds).
        public var time: Double
        /// The last plan with the same figures (Manager time).
        public var until: Double
        /// Every group, in configuration order.
        public var groups: [Group]
    }

    /// The most samples kept (default 1,000).
    public let capacity: Int
    private let samples: Mutex<[Sample]>

    /// An empty history.
    /// - Parameter capacity: The most samples kept; the oldest go first.
    public init(capacity: Int = 1_000) {
        self.capacity = max(2, capacity)
        samples = Mutex([])
    }

    /// Records a plan's targets.
    public func record(at time: Double, _ targets: [GroupTarget]) {
        let groups = targets.map {
            Group(
                group: $0.group, share: $0.shareFraction, demand: $0.demandVMs, target: $0.targetVMs,
                held: $0.currentVMs)
        }
        samples.withLock { all in
            if let last = all.last, last.groups == groups {
                all[all.count - 1].until = time
                return
            }
            all.append(Sample(time: time, until: time, groups: groups))
            if all.count > capacity { all.removeFirst(all.count - capacity) }
        }
    }

    /// Every sample, oldest first.
    public var all: [Sample] { samples.withLock { $0 } }

    /// The last sample.
    public var latest: Sample? { samples.withLock { $0.last } }
}
