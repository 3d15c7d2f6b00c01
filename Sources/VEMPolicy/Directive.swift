/// One thing the planner asks the Manager to do, with the reason it is logged and shown under.
public struct Directive: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What to do.
    public enum Action: Sendable, Hashable, Codable {
        /// Create a VM of `group` on `host`.
        case create(group: String, host: String)
        /// Stop giving the VM new jobs in the batch system; it is destroyed once idle.
        case drain(vm: String)
        /// Destroy the VM (any job still on it is lost: only for idle VMs, or when preempting).
        case destroy(vm: String)
        /// Live-migrate the VM to `host`.
        case migrate(vm: String, host: String)
    }

    /// What to do.
    public var action: Action
    /// Why, in words an administrator reads in the log and in `vem explain`.
    public var reason: String

    /// Creates a directive.
    public init(_ action: Action, reason: String) {
        self.action = action
        self.reason = reason
    }

    /// `create atlas on host07: …`, `drain atlas-vm-3: …`.
    public var description: String {
        switch action {
        case .create(let group, let host): "create \(group) on \(host): \(reason)"
        case .drain(let vm): "drain \(vm): \(reason)"
        case .destroy(let vm): "destroy \(vm): \(reason)"
        case .migrate(let vm, let host): "migrate \(vm) to \(host): \(reason)"
        }
    }

    /// The VM the directive acts on (`nil` for a create).
    public var vm: String? {
        switch action {
        case .create: nil
        case .drain(let vm), .destroy(let vm), .migrate(let vm, _): vm
        }
    }
}

/// What the planner decided in one step: the directives, each group's target and how it was computed.
public struct Plan: Sendable, Hashable, Codable {
    /// The time the plan was made for.
    public var now: Int
    /// The pool's capacity used by the water-filling (vCPUs).
    public var capacityCPUs: Int
    /// The pool's capacity used by the water-filling (MiB).
    public var capacityMemoryMiB: Int
    /// What to do, in order: destroys, drains, migrations, creates.
    public var directives: [Directive]
    /// One entry per configured group, in name order.
    public var targets: [GroupTarget]
    /// Things that held a decision back this step (booting limit reached, no room, waiting for hysteresis).
    public var notes: [String]
    /// The reservation this plan holds for a group's wide first job, if any: the caller passes it back in the next
    /// snapshot (``PoolSnapshot/reservation``), so that it is kept until the job starts.
    public var reservation: Reservation? = nil

    /// The target of the group of that name.
    public subscript(group name: String) -> GroupTarget? { targets.first { $0.group == name } }
}
