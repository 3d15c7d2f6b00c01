import Synchronization

/// How long the Manager's `policy.rebalance()` passes took: the plan alone (state snapshot, inputs, reconciler
/// and planner) and the whole pass (plus journaling the decisions and inventory and submitting the commands).
/// Keeps the last ``capacity`` of each; `vem bench manager` reads and resets them.
public final class PassTimings: Sendable {
    /// How many durations are kept.
    public static let capacity = 4_096
    private let values = Mutex<(plan: [Double], pass: [Double])>(([], []))

    /// An empty record.
    public init() {}

    /// Records one pass.
    func record(plan: Duration, pass: Duration) {
        values.withLock { v in
            if v.plan.count >= Self.capacity {
                v.plan.removeFirst(v.plan.count / 2)
                v.pass.removeFirst(v.pass.count / 2)
            }
            v.plan.append(Self.milliseconds(plan))
            v.pass.append(Self.milliseconds(pass))
        }
    }

    /// The durations recorded since the last reset, in milliseconds; `reset` forgets them.
    public func take(reset: Bool = false) -> (plan: [Double], pass: [Double]) {
        values.withLock { v in
            defer { if reset { v = ([], []) } }
            return v
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
    }
}
