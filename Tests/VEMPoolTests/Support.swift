import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPolicy
@testable import VEMPool

/// A plan carrying just these directives.
func plan(_ directives: [Directive], now: Int = 0) -> Plan {
    Plan(now: now, capacityCPUs: 0, capacityMemoryMiB: 0, directives: directives, targets: [], notes: [])
}

/// A reconciler with one group, atlas (2-vCPU, 2 GiB VMs).
func atlasReconciler() throws -> Reconciler {
    try Reconciler(groups: [PoolGroup(name: "atlas", share: 1, vmCPUs: 2, vmMemoryMiB: 2048)])
}

/// An active VM of atlas on `host` (created, joined, registered at `now`).
func activeVM(_ r: inout Reconciler, on host: String = "h1", now: Int = 0) throws -> String {
    let op = try #require(
        r.apply(plan([Directive(.create(group: "atlas", host: host), reason: "")]), now: now).first)
    _ = r.onSucceeded(op.id, now: now)
    let register = try #require(r.onClientJoined(op.vm, now: now).first)
    _ = r.onSucceeded(register.id, now: now)
    return op.vm
}

/// A batch snapshot with these nodes (all of group `group`).
func batch(_ time: Int, group: String = "atlas", pendingCPUs: Int = 0, nodes: [BatchNode] = []) -> BatchSnapshot {
    BatchSnapshot(
        time: time,
        groups: [
            GroupDemand(group: group, pendingJobs: pendingCPUs > 0 ? 1 : 0, pendingCPUs: pendingCPUs, nodes: nodes)
        ])
}

/// A batch node; busy when `jobs > 0`.
func node(_ name: String, jobs: Int = 0, draining: Bool = false) -> BatchNode {
    let state: NodeState = draining ? (jobs > 0 ? .draining : .drained) : (jobs > 0 ? .allocated : .idle)
    return BatchNode(
        name: name, group: "atlas", cpus: 1, memoryMB: 0, allocatedCPUs: jobs > 0 ? 1 : 0, runningJobs: jobs,
        state: state)
}

extension [PoolOperation] {
    /// Short names of the operations: `create atlas-vm-1@h1`, `register atlas-vm-1`, …
    var names: [String] {
        map { op in
            switch op.kind {
            case .createVM(_, let host, _, _, _): "create \(op.vm)@\(host)"
            case .registerNode: "register \(op.vm)"
            case .drainNode: "drain \(op.vm)"
            case .removeNode: "remove \(op.vm)"
            case .downNode: "down \(op.vm)"
            case .destroyVM: "destroy \(op.vm)"
            case .migrateVM(_, let to): "migrate \(op.vm)@\(to)"
            }
        }
    }
}

/// Two groups, a and b, of equal shares: the closed-loop simulation suites' site.
let twoEqualGroups = [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)]

/// The closed-loop simulation suites' pool: one host of 4 vCPUs, VMs of 1 vCPU; boot 60 s; planner every 60 s;
/// 4 VMs may boot at once anywhere; idle VMs kept until wanted (as `PolicyConfiguration` and `vem simulate` do),
/// or drained after 300 s idle and 600 s alive without `keepIdleVMs`; preemption after `starvationGrace` (off by
/// default).
func oneHostConfiguration(
    starvationGrace: Int = PoolSimulation.preemptionOff, keepIdleVMs: Bool = true
) -> PoolSimulation.Configuration {
    PoolSimulation.Configuration(
        hosts: 1, cpusPerHost: 4, bootDelay: 60, tick: 60,
        policy: PolicyConfiguration(
            maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
            starvationGrace: starvationGrace, keepIdleVMs: keepIdleVMs))
}
