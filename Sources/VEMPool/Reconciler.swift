import VEMBatch
import VEMPolicy

/// The pure state machine between the planner and the outside world (an **Instance**: no I/O, no clock).
///
/// It keeps the VM inventory, turns the planner's ``VEMPolicy/Plan`` into concrete ``PoolOperation``s (a VM
/// name from its allocator, create on a host, register the node when the VM's Client joins, drain in the batch
/// system, remove the node and destroy the VM once idle, migrate), and keeps the decision log. It is fed
/// events — the batch snapshot (node busy or idle), a VM booted, its Client joined, an operation's outcome, a
/// VM vanished — and answers each with the operations to carry out next. One operation runs per VM at a time.
///
/// What the Manager's `policy.rebalance()` drives:
/// ```
/// let step = try reconciler.rebalance(batch: snapshot, hosts: hosts, now: now, planner: planner)
/// for op in step.operations { shell.execute(op) }   // outcomes come back as onSucceeded / onFailed
/// ```
public struct Reconciler: Sendable {
    /// The knobs. Times are seconds on the clock the reconciler is fed.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Batch registrations tried before a VM whose node cannot be registered is destroyed (default 3).
        public var maxRegisterAttempts: Int
        /// Decision log entries kept (the oldest are dropped; default 10 000).
        public var decisionLogLimit: Int
        /// How long an operation may go without an outcome before it counts as failed (default 300; a live
        /// migration has ``migrationTimeout``).
        public var operationTimeout: Int
        /// How long a live migration may go without an outcome (default 1 800).
        public var migrationTimeout: Int
        /// How long a created VM may wait for its Client to join before it is destroyed (default 600).
        public var bootTimeout: Int
        /// Destroys tried (and, for a VM that is gone, node removals) before VEM forgets the VM (default 5).
        public var maxAttempts: Int
        /// The delay before the first retry of a failed registration or destroy, doubled at each further attempt
        /// (default 10), up to ``maxBackoff`` (default 300).
        public var retryBackoff: Int
        /// The longest delay between two retries.
        public var maxBackoff: Int
        /// How long a batch node of a group, named like a VEM VM but with no VM in the inventory, is left alone
        /// before it is removed (default 180: time for the hosts' lists to adopt its VM first).
        public var strayNodeGrace: Int

        /// Creates a configuration with the documented defaults.
        public init(
            maxRegisterAttempts: Int = 3, decisionLogLimit: Int = 10_000, operationTimeout: Int = 300,
            migrationTimeout: Int = 1_800, bootTimeout: Int = 600, maxAttempts: Int = 5, retryBackoff: Int = 10,
            maxBackoff: Int = 300, strayNodeGrace: Int = 180
        ) {
            self.maxRegisterAttempts = max(1, maxRegisterAttempts)
            self.decisionLogLimit = max(1, decisionLogLimit)
            self.operationTimeout = max(1, operationTimeout)
            self.migrationTimeout = max(1, migrationTimeout)
            self.bootTimeout = max(1, bootTimeout)
            self.maxAttempts = max(1, maxAttempts)
            self.retryBackoff = max(0, retryBackoff)
            self.maxBackoff = max(self.retryBackoff, maxBackoff)
            self.strayNodeGrace = max(0, strayNodeGrace)
        }

        /// The delay before retry number `attempt` (1 for the first).
        public func backoff(attempt: Int) -> Int {
            guard retryBackoff > 0 else { return 0 }
            let doublings = min(max(0, attempt - 1), 30)
            return min(maxBackoff, retryBackoff << doublings)
        }
    }

    /// What one ``rebalance(batch:hosts:now:planner:)`` produced.
    public struct Step: Sendable, Hashable {
        /// The snapshot the planner saw.
        public var snapshot: PoolSnapshot
        /// The planner's plan.
        public var plan: Plan
        /// The operations to carry out.
        public var operations: [PoolOperation]
    }

    /// The knobs.
    public let configuration: Configuration
    /// The configured groups (``replaceGroups(_:)`` swaps in a reloaded configuration's).
    public internal(set) var groups: [PoolGroup]
    /// The VMs, by id.
    public internal(set) var vms: [String: ManagedVM] = [:]
    /// The ids of the VMs added, changed or removed in ``vms`` since the last ``clearChangedVMs()``: what a Shell
    /// keeping its own view of the inventory (the journal's, the triggers' `manager.vms`) must look at again,
    /// instead of comparing every VM.
    public internal(set) var changedVMs: Set<String> = []
    /// The most recent decisions, oldest first (at most `decisionLogLimit`).
    public internal(set) var decisions: [PoolDecision] = []
    /// Decisions logged since the start (a Shell reads `decisions.suffix(decisionsLogged - seen)`).
    public internal(set) var decisionsLogged = 0
    /// Running totals.
    public internal(set) var counters = PoolCounters()
    /// Whether the operator paused the planner (`vem pause`): ``rebalance(batch:hosts:now:planner:)`` then only
    /// observes and moves time on; it plans nothing.
    public internal(set) var paused = false
    /// The hosts the operator drained (`vem host drain`): they take no new VM and their VMs are moved off.
    public internal(set) var drainedHosts: Set<String> = []
    /// The reservation the last plan held for a group's wide first job, passed back to the planner in the next
    /// snapshot so that it is kept until that job starts (not journaled: after a restart the planner decides anew).
    public internal(set) var reservation: Reservation?

    var nextNumber: [String: Int] = [:]
    var nextOperationID = 1
    var inFlight: [Int: PoolOperation] = [:]
    /// When each operation in flight was issued (for its time-out).
    var issuedAt: [Int: Int] = [:]
    /// Batch nodes with no VM in the inventory, by name: when each was first seen so.
    var strayNodesSeen: [String: Int] = [:]
    /// Unknown VEM domains already reported (`host/vm`), so a periodic list does not report them again.
    var reportedUnknown: Set<String> = []

    /// Creates a reconciler with an empty inventory.
    /// - Throws: ``PoolError`` (`invalid_group`) for an unusable group list.
    public init(groups: [PoolGroup], configuration: Configuration = Configuration()) throws(PoolError) {
        try PoolGroup.validate(groups)
        self.groups = groups
        self.configuration = configuration
    }

    /// The inventory, by id.
    /// (A VM gone before its node was registered, kept only to see whether its guest left a node behind, is not
    /// in it: it holds no room and serves no group; nor is a stray batch node being removed.)
    public var inventory: [VMRecord] {
        // The small records are sorted, not the VMs.
        vms.values.filter { $0.nodeCheckAfter == nil && !$0.isStrayNode }.map(\.record).sorted { $0.id < $1.id }
    }

    /// The operations sent and not yet reported on, by id.
    public var operationsInFlight: [PoolOperation] { inFlight.values.sorted { $0.id < $1.id } }

    /// The group of that name.
    public func group(named name: String) -> PoolGroup? { groups.first { $0.name == name } }

    /// The planner's view of the pool now.
    public func snapshot(batch: BatchSnapshot, hosts: [HostState]) -> PoolSnapshot {
        var snapshot = PoolSnapshotBuilder.build(groups: groups, batch: batch, vms: inventory, hosts: hosts)
        // A VM drained after the batch snapshot was taken counts as busy: the snapshot cannot show a job that
        // started on it before the drain, and destroying it on that word would kill the job.
        for i in snapshot.vms.indices where !snapshot.vms[i].busy {
            if let drained = vms[snapshot.vms[i].id]?.drainedAt, batch.time < drained {
                snapshot.vms[i].busy = true
                snapshot.vms[i].idleSince = nil
            }
        }
        snapshot.reservation = reservation
        return snapshot
    }

    /// One rebalancing step: time out and retry what is due (``tick(now:)``), observe the batch snapshot, build
    /// the pool snapshot, plan, and turn the plan into operations.
    /// - Throws: ``PoolError`` (`planner`) when the planner refuses the snapshot or its configuration.
    public mutating func rebalance(
        batch: BatchSnapshot, hosts: [HostState], now: Int, planner: Planner
    ) throws(PoolError) -> Step {
        var operations = tick(now: now)
        operations += observe(batch, now: now)
        let hosts = hostsForPlanner(hosts)
        guard !paused else {
            let snapshot = snapshot(batch: batch, hosts: hosts)
            return Step(
                snapshot: snapshot, plan: .notRun(now: now, note: "paused by the operator (vem resume to go on)"),
                operations: operations)
        }
        operations += evacuate(batch: batch, hosts: hosts, configuration: planner.configuration, now: now)
        let snapshot = snapshot(batch: batch, hosts: hosts)
        let plan: Plan
        do { plan = try planner.plan(snapshot, now: now) } catch { throw PoolError(.planner, error.message) }
        reservation = plan.reservation
        operations += apply(plan, now: now)
        return Step(snapshot: snapshot, plan: plan, operations: operations)
    }

    /// Adopts a VM found running (after a Manager restart): it joins the inventory as it is, and the name
    /// allocator skips its number.
    /// - Throws: ``PoolError`` (`invalid_vm`) for a duplicate id or an unknown group.
    public mutating func adopt(_ record: VMRecord, registered: Bool) throws(PoolError) {
        guard vms[record.id] == nil else { throw PoolError(.invalidVM, "VM \(record.id) is already known") }
        guard group(named: record.group) != nil else {
            throw PoolError(.invalidVM, "VM \(record.id) belongs to group \(record.group), which is not configured")
        }
        let stage: ManagedVM.Stage =
            switch record.phase {
            case .booting: .booting
            case .active: registered ? .active : .booting
            case .draining: .draining
            }
        var vm = ManagedVM(
            id: record.id, group: record.group, host: record.host, stage: stage, createdAt: record.createdAt,
            cpus: record.cpus, memoryMiB: record.memoryMiB)
        vm.registered = registered
        vm.seenInBatch = registered
        vm.idleSince = record.idleSince
        vm.clientJoined = registered
        store(vm)
        reserveNames([record.id])
    }

    /// Never gives these names to a new VM again (nor lower numbers of their groups): after a restart, the names
    /// the journal ever mentioned, so that a new VM never takes the name of one destroyed before the restart (the
    /// batch system, the decision log and a late guest would mix the two up). Names of no configured group, or
    /// not of the `<group>-vm-<n>` form, are ignored.
    public mutating func reserveNames(_ names: some Sequence<String>) {
        for name in names {
            guard let dash = name.range(of: "-vm-", options: .backwards),
                let n = Int(name[dash.upperBound...]), n > 0
            else { continue }
            let group = String(name[..<dash.lowerBound])
            guard self.group(named: group) != nil else { continue }
            nextNumber[group] = max(nextNumber[group] ?? 1, n + 1)
        }
    }

    /// Forgets the changes noted so far (``changedVMs``): the Shell has looked at them.
    public mutating func clearChangedVMs() {
        if !changedVMs.isEmpty { changedVMs = [] }
    }

    /// Swaps in a reloaded configuration's groups (shares, bounds, VM sizes, templates). VMs keep the size they
    /// were created with.
    /// - Throws: ``PoolError`` (`invalid_group`) for an unusable list, or one without a group that still has VMs.
    public mutating func replaceGroups(_ new: [PoolGroup]) throws(PoolError) {
        try PoolGroup.validate(new)
        let names = Set(new.map(\.name))
        let orphans = Set(vms.values.filter { !names.contains($0.group) }.map(\.group)).sorted()
        guard orphans.isEmpty else {
            throw PoolError(
                .invalidGroup,
                "group\(orphans.count == 1 ? "" : "s") \(orphans.joined(separator: ", ")) still "
                    + "\(orphans.count == 1 ? "has" : "have") VMs: drain them (vem vm drain) before removing "
                    + "\(orphans.count == 1 ? "it" : "them")")
        }
        groups = new
    }

    // MARK: - Internals shared by the extensions

    /// Stores `vm` under its id; the id counts as changed (``changedVMs``) when the record differs from the one
    /// stored before.
    mutating func store(_ vm: ManagedVM) {
        if vms.updateValue(vm, forKey: vm.id) != vm { changedVMs.insert(vm.id) }
    }

    /// Removes the VM `id` from the inventory (a change, when it was there).
    mutating func forget(_ id: String) {
        if vms.removeValue(forKey: id) != nil { changedVMs.insert(id) }
    }

    /// The next free name of the group: `atlas-vm-1`, `atlas-vm-2`, … (never one in the inventory).
    mutating func allocateName(for group: String) -> String {
        var n = nextNumber[group] ?? 1
        while vms["\(group)-vm-\(n)"] != nil { n += 1 }
        nextNumber[group] = n + 1
        return "\(group)-vm-\(n)"
    }

    /// Issues an operation for a VM at `now`: records it in flight and as the VM's pending operation.
    mutating func issue(_ kind: PoolOperation.Kind, for vm: inout ManagedVM, now: Int) -> PoolOperation {
        let op = PoolOperation(id: nextOperationID, vm: vm.id, kind: kind)
        nextOperationID += 1
        inFlight[op.id] = op
        issuedAt[op.id] = now
        vm.pending = op.id
        vm.retryAt = nil
        return op
    }

    /// Appends to the decision log.
    mutating func log(
        _ action: PoolDecision.Action, _ vm: ManagedVM, host: String? = nil, now: Int, _ reason: String
    ) {
        record(PoolDecision(time: now, group: vm.group, vm: vm.id, host: host, action: action, reason: reason))
    }

    /// Appends an entry to the decision log.
    mutating func record(_ decision: PoolDecision) {
        decisions.append(decision)
        decisionsLogged += 1
        if decisions.count > configuration.decisionLogLimit {
            decisions.removeFirst(decisions.count - configuration.decisionLogLimit)
        }
    }

    /// The batch registration of a VM.
    func registration(of vm: ManagedVM) -> NodeRegistration {
        NodeRegistration(name: vm.id, group: vm.group, cpus: vm.cpus, memoryMB: vm.memoryMiB)
    }
}
