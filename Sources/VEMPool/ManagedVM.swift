import VEMPolicy

/// A VM the ``Reconciler`` manages, with where it stands in its life cycle.
public struct ManagedVM: Sendable, Hashable, Codable {
    /// Where the VM stands. The planner sees `creating`, `booting` and `registering` as booting, `active` as
    /// active, and the rest as draining.
    public enum Stage: String, Sendable, Hashable, Codable, CaseIterable {
        /// The create command is under way.
        case creating
        /// Created; waiting for its Client to join.
        case booting
        /// Its Client joined; the batch registration is under way.
        case registering
        /// A batch node of its group, taking jobs.
        case active
        /// Takes no new job; destroyed once idle.
        case draining
        /// Its batch node is being removed (before the VM is destroyed, or after it vanished).
        case removing
        /// The destroy command is under way (for a busy VM, a preemption, its node's down comes first).
        case destroying
    }

    /// The VM's id, name and batch node name (`atlas-vm-12`).
    public var id: String
    /// The group it serves.
    public var group: String
    /// The host it runs on.
    public var host: String
    /// Where it stands.
    public var stage: Stage
    /// When it was ordered created.
    public var createdAt: Int
    /// When it was seen running (hypervisor event or its Client joining).
    public var bootedAt: Int?
    /// Whether its Client has joined.
    public var clientJoined = false
    /// Whether the batch system knows its node.
    public var registered = false
    /// When its node's registration was confirmed (a batch snapshot no later than this may not show it yet).
    public var registeredAt: Int?
    /// When its node's drain was confirmed: a batch snapshot taken before this cannot show the node idle (a job
    /// may have started on it between that snapshot and the drain).
    public var drainedAt: Int?
    /// Whether its node has shown up in a batch snapshot since it was registered. Only then does a snapshot
    /// without it mean the batch system forgot it: Slurm keeps a registered node `FUTURE`, and out of `sinfo`,
    /// until the VM's own `slurmd` announces it.
    public var seenInBatch = false
    /// Whether its batch node runs work (from the last batch snapshot).
    public var busy = false
    /// Since when it has been idle.
    public var idleSince: Int?
    /// vCPUs.
    public var cpus: Int
    /// Memory, in MiB.
    public var memoryMiB: Int
    /// The destination of a running live migration.
    public var migratingTo: String?
    /// Failed batch registrations so far.
    public var registerAttempts = 0
    /// Whether the VM no longer exists on its host (destroyed or vanished); only its batch node may remain.
    public var gone = false
    /// Lost while registered: its node is to be marked down in the batch system when it is busy (asked once;
    /// an idle node is removed at once).
    public var markDown = false
    /// Its node was marked down in the batch system (a lost VM's that ran jobs, or a preempted VM's).
    public var markedDown = false
    /// For a VM gone before VEM registered its node: the first batch snapshot taken from this time on says
    /// whether its guest registered a node by itself (a `slurmd -Z` started at boot), which is then removed.
    public var nodeCheckAfter: Int?
    /// The operation under way for it, if any (one at a time).
    public var pending: Int?
    /// Since when it has been in its waiting stage (`booting`: since its creation was confirmed, or since the
    /// reconciler first saw it there after an adoption).
    public var stageSince: Int?
    /// When a failed operation is tried again (its back-off); nil when none is waiting.
    public var retryAt: Int?
    /// Failed attempts at destroying it, or at removing its node once it is gone.
    public var attempts = 0
    /// The operation that put it on its host (its create, or its last migration): a host's list asked for
    /// before that operation was issued cannot show it.
    public var placedBy: Int?

    /// Creates a record.
    public init(id: String, group: String, host: String, stage: Stage, createdAt: Int, cpus: Int, memoryMiB: Int) {
        self.id = id
        self.group = group
        self.host = host
        self.stage = stage
        self.createdAt = createdAt
        self.cpus = cpus
        self.memoryMiB = memoryMiB
    }

    /// A batch node with no VM, kept only while it is removed (``Reconciler/observe(_:now:)``): gone, on no host.
    public var isStrayNode: Bool { gone && host.isEmpty }

    /// The phase the planner sees.
    public var phase: VMState.Phase {
        switch stage {
        case .creating, .booting, .registering: .booting
        case .active: .active
        case .draining, .removing, .destroying: .draining
        }
    }

    /// The inventory record the snapshot is built from.
    public var record: VMRecord {
        VMRecord(
            id: id, group: group, host: host, phase: phase, createdAt: createdAt, idleSince: idleSince, cpus: cpus,
            memoryMiB: memoryMiB, migratingTo: migratingTo)
    }
}
