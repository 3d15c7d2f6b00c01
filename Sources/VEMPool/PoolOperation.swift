import VEMBatch

/// One concrete thing the Manager must do to the hypervisor or the batch system, asked for by the
/// ``Reconciler``. The Shell carries it out (a command to a Dom0 Client or to the batch Client) and reports
/// the outcome with ``Reconciler/onSucceeded(_:now:)`` or ``Reconciler/onFailed(_:message:now:)``.
public struct PoolOperation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What to do.
    public enum Kind: Sendable, Hashable, Codable {
        /// Create (define and start) the VM `vm` of `group` on `host` from `template`.
        case createVM(group: String, host: String, template: String, cpus: Int, memoryMiB: Int)
        /// Make the VM known to the batch system as a node of its group.
        case registerNode(NodeRegistration)
        /// Let the VM's node take no new job; its running jobs finish.
        case drainNode(reason: String)
        /// Forget the VM's node in the batch system.
        case removeNode
        /// Mark the VM's node down in the batch system: it takes no job, and the jobs it ran end there (to be
        /// requeued), so nothing waits on a node whose VM is lost. A preempted (busy) VM's node is marked down
        /// before the VM is destroyed. Its removal follows once it is idle.
        case downNode(reason: String)
        /// Destroy (stop and undefine) the VM on `host`.
        case destroyVM(host: String)
        /// Live-migrate the VM from `from` to `to`.
        case migrateVM(from: String, to: String)
    }

    /// Identifies the operation in outcome reports; unique within one ``Reconciler``.
    public var id: Int
    /// The VM acted on (its name; the batch node has the same name).
    public var vm: String
    /// What to do.
    public var kind: Kind

    /// Creates an operation.
    public init(id: Int, vm: String, kind: Kind) {
        self.id = id
        self.vm = vm
        self.kind = kind
    }

    /// True for operations on the batch system (register, drain, remove); false for the hypervisor's.
    public var isBatch: Bool {
        switch kind {
        case .registerNode, .drainNode, .removeNode, .downNode: true
        case .createVM, .destroyVM, .migrateVM: false
        }
    }

    /// `#3 create atlas-vm-1 on host1`, `#4 register atlas-vm-1`, …
    public var description: String {
        switch kind {
        case .createVM(_, let host, _, _, _): "#\(id) create \(vm) on \(host)"
        case .registerNode: "#\(id) register \(vm)"
        case .drainNode: "#\(id) drain \(vm)"
        case .removeNode: "#\(id) remove \(vm)"
        case .downNode: "#\(id) down \(vm)"
        case .destroyVM(let host): "#\(id) destroy \(vm) on \(host)"
        case .migrateVM(let from, let to): "#\(id) migrate \(vm) from \(from) to \(to)"
        }
    }
}

/// One entry of the decision log: what was decided or what happened, to which VM, and why.
public struct PoolDecision: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the entry records.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        /// A VM was ordered created.
        case create
        /// A VM's Client joined and its node was registered with the batch system.
        case register
        /// A VM's node was drained.
        case drain
        /// A VM was ordered destroyed.
        case destroy
        /// A VM was ordered migrated.
        case migrate
        /// An operation failed.
        case failed
        /// A VM disappeared without being asked to (or was already absent when an operation reached it).
        case lost
        /// VEM stopped tracking a VM (or its node) it could not bring to an end after its retries.
        case forget
        /// A VM a host reported (`vm.list`) that the inventory did not hold was taken into it.
        case adopt
        /// A VEM domain of a group that is not configured was found on a host (left alone).
        case unknown
    }

    /// When (seconds on the Manager's clock).
    public var time: Int
    /// The group concerned.
    public var group: String
    /// The VM concerned, if any.
    public var vm: String?
    /// The host concerned, if any (where a VM is created, or where it migrates to).
    public var host: String?
    /// What happened.
    public var action: Action
    /// Why, in an administrator's words.
    public var reason: String

    /// Creates an entry.
    public init(time: Int, group: String, vm: String?, host: String? = nil, action: Action, reason: String) {
        self.time = time
        self.group = group
        self.vm = vm
        self.host = host
        self.action = action
        self.reason = reason
    }

    /// `t=120 create atlas-vm-12 on host07: atlas has 40 pending CPUs …`.
    public var description: String {
        let place = host.map { action == .migrate ? " to \($0)" : " on \($0)" } ?? ""
        return "t=\(time) \(action.rawValue) \(vm ?? group)\(place): \(reason)"
    }
}

/// Running totals of what the pool did.
public struct PoolCounters: Sendable, Hashable, Codable {
    /// VMs whose creation succeeded.
    public var created = 0
    /// VMs destroyed (on request or lost).
    public var destroyed = 0
    /// Live migrations that succeeded.
    public var migrated = 0
    /// Nodes drained.
    public var drained = 0
    /// Operations that failed.
    public var failed = 0
    /// Busy VMs destroyed (their jobs lost: preemption or a crash).
    public var busyDestroyed = 0

    /// All zero.
    public init() {}
}
