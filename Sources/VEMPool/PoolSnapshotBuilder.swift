import VEMBatch
import VEMPolicy

/// Builds the planner's ``VEMPolicy/PoolSnapshot`` from what the Manager hears: the batch system's demand and
/// nodes, the VM inventory, and the hosts' capacity and free room as the hypervisor reports them.
///
/// The rules:
/// - every configured group appears, with the demand of the batch group of the same name (none when the batch
///   system does not know it); batch groups that are not configured are ignored;
/// - a VM is busy when its batch node (the node named like the VM) runs a job or holds CPUs; a VM without a
///   node (booting, or removed already) is idle;
/// - an idle VM's `idleSince` is the inventory's (or its creation time); a busy one has none, and carries its
///   node's `busyUntil`, `busySince`, `workAtRisk` and whether it runs a job of several nodes that was requeued
///   before;
/// - hosts are passed through unchanged: the planner itself never counts more free room than the host's
///   capacity minus the VMs listed on it, so a VM being created is accounted for before the hypervisor shows it.
public enum PoolSnapshotBuilder {
    /// Builds one snapshot.
    /// - Parameters:
    ///   - groups: the configured groups.
    ///   - batch: the batch system's snapshot.
    ///   - vms: the VM inventory.
    ///   - hosts: the hosts, capacity and free room as the hypervisor reports them.
    public static func build(
        groups: [PoolGroup], batch: BatchSnapshot, vms: [VMRecord], hosts: [HostState]
    ) -> PoolSnapshot {
        var demand: [String: GroupDemand] = [:]
        var nodes: [String: BatchNode] = [:]
        for g in batch.groups {
            demand[g.group] = g
            for n in g.nodes { nodes[n.name] = n }
        }
        let groupStates = groups.map { g in
            let d = demand[g.name]
            return GroupState(
                name: g.name, share: g.share, minVMs: g.minVMs, maxVMs: g.maxVMs, vmCPUs: g.vmCPUs,
                vmMemoryMiB: g.vmMemoryMiB, pendingCPUs: d?.pendingCPUs ?? 0, pendingJobs: d?.pendingJobs ?? 0,
                runningCPUs: d?.runningCPUs ?? 0, runningJobs: d?.runningJobs ?? 0,
                oldestPendingWait: max(0, d?.longestWait ?? 0), headJobCPUs: max(0, d?.headJobCPUs ?? 0))
        }
        let vmStates = vms.map { vm in
            let node = nodes[vm.id]
            let busy = node.map(isBusy) ?? false
            return VMState(
                id: vm.id, group: vm.group, host: vm.host, phase: vm.phase, busy: busy,
                idleSince: busy ? nil : vm.idleSince, createdAt: vm.createdAt, cpus: vm.cpus,
                memoryMiB: vm.memoryMiB, migratingTo: vm.migratingTo, busyUntil: busy ? node?.busyUntil : nil,
                busySince: busy ? node?.busySince : nil, runsRequeuedWideJob: busy && (node?.requeuedWideJobs ?? 0) > 0,
                workAtRisk: busy ? node?.workAtRisk : nil)
        }
        return PoolSnapshot(groups: groupStates, hosts: hosts, vms: vmStates)
    }

    /// Whether a batch node runs work: a job on it or CPUs allocated.
    public static func isBusy(_ node: BatchNode) -> Bool { node.runningJobs > 0 || node.allocatedCPUs > 0 }
}
