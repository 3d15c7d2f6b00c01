import Synchronization

/// How long the Manager's `policy.rebalance()` passes took: the plan alone (state snapshot, inputs, reconciler
/// and planner) and the whole pass (plus journaling the decisions and inventory and submitting the commands).
/// Keeps the last ``capacity`` of each, and when the trigger that asked for each pass sending `vm.create` ticked;
/// `vem bench manager` reads and resets them.
public final class PassTimings: Sendable {
    /// How many durations are kept.
    public static let capacity = 4_096
    private let values = Mutex<(plan: [Double], pass: [Double])>(([], []))
    private let ticks = Mutex<[UInt64]>([])

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

    /// A pass that is about to send `vm.create`: `tick` is when the trigger's pass that asked for it began
    /// (``Sender/uptimeNanoseconds()``).
    func created(tick: UInt64) {
        ticks.withLock { t in
            if t.count >= Self.capacity { t.removeFirst(t.count / 2) }
            t.append(tick)
        }
    }

    /// The ticks of the passes that sent `vm.create` since the last reset, oldest first: `vem bench manager`
    /// times a demand change's first `vm.create` from the tick of the trigger that planned it.
    public func creationTicks(reset: Bool = false) -> [UInt64] {
        ticks.withLock { t in
            defer { if reset { t = [] } }
            return t
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
    }
}
