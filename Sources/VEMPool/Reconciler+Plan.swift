import VEMPolicy

extension Reconciler {
    /// Turns a plan's directives into operations and logs each decision with the planner's reason.
    ///
    /// - `create(group, host)`: a new VM named by the allocator (`atlas-vm-12`), created on `host`;
    /// - `drain(vm)`: an active, registered VM's node is drained (the VM counts as draining at once);
    /// - `destroy(vm)`: an idle VM's node is removed from the batch system first, then the VM is destroyed; a
    ///   busy VM's (a preemption) node is marked down first (`downNode`: the batch system requeues its jobs at
    ///   once and starts none there), then the VM is destroyed — also when the down fails or times out (the
    ///   batch system then ends the jobs when the VM's daemon stops answering) — and its node removed once idle;
    /// - `migrate(vm, host)`: a live migration.
    ///
    /// Directives about an unknown VM, a VM with an operation under way, or a VM in a stage where they make no
    /// sense are skipped (the next plan sees the VM as it is and decides again).
    public mutating func apply(_ plan: Plan, now: Int) -> [PoolOperation] {
        apply(plan.directives, now: now)
    }

    /// Turns directives into operations, as ``apply(_:now:)`` does for a plan's (a trigger's `vm.*` actions
    /// come this way, with the trigger as their reason).
    public mutating func apply(_ directives: [Directive], now: Int) -> [PoolOperation] {
        var operations: [PoolOperation] = []
        for directive in directives {
            switch directive.action {
            case .create(let group, let host):
                if let op = create(group: group, host: host, reason: directive.reason, now: now) {
                    operations.append(op)
                }
            case .drain(let id):
                guard var vm = vms[id], vm.pending == nil, vm.stage == .active, vm.registered, !vm.gone else {
                    continue
                }
                vm.stage = .draining
                operations.append(issue(.drainNode(reason: directive.reason), for: &vm, now: now))
                log(.drain, vm, now: now, directive.reason)
                store(vm)
            case .destroy(let id):
                guard var vm = vms[id], vm.pending == nil, !vm.gone,
                    vm.stage == .draining || vm.stage == .active || vm.stage == .booting
                else { continue }
                if vm.registered && !vm.busy {
                    vm.stage = .removing
                    operations.append(issue(.removeNode, for: &vm, now: now))
                } else if vm.busy {
                    // A preemption: the node goes down before the VM dies, so the batch system requeues its jobs at
                    // once (not when its daemon stops answering) and starts none there meanwhile.
                    vm.stage = .destroying
                    operations.append(issue(.downNode(reason: "vem: \(vm.id) preempted"), for: &vm, now: now))
                } else {
                    vm.stage = .destroying
                    operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
                }
                log(.destroy, vm, host: vm.host, now: now, directive.reason)
                store(vm)
            case .migrate(let id, let host):
                guard var vm = vms[id], vm.pending == nil, vm.migratingTo == nil, !vm.gone, vm.host != host,
                    vm.stage == .active || vm.stage == .draining
                else { continue }
                vm.migratingTo = host
                let op = issue(.migrateVM(from: vm.host, to: host), for: &vm, now: now)
                vm.placedBy = op.id
                operations.append(op)
                log(.migrate, vm, host: host, now: now, directive.reason)
                store(vm)
            }
        }
        return operations
    }

    /// A new VM of `group` on `host`, or `nil` when the group is not configured.
    mutating func create(group name: String, host: String, reason: String, now: Int) -> PoolOperation? {
        guard let group = group(named: name) else { return nil }
        var vm = ManagedVM(
            id: allocateName(for: name), group: name, host: host, stage: .creating, createdAt: now,
            cpus: group.vmCPUs, memoryMiB: group.vmMemoryMiB)
        let op = issue(
            .createVM(
                group: name, host: host, template: group.template, cpus: group.vmCPUs, memoryMiB: group.vmMemoryMiB),
            for: &vm, now: now)
        vm.placedBy = op.id
        log(.create, vm, host: host, now: now, reason)
        store(vm)
        return op
    }
}
