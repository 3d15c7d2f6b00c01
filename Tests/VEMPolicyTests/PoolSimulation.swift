import VEMPolicy

/// A toy pool driven by the planner: directives are applied to the snapshot, time advances by `step` seconds,
/// booting VMs become active, and each group's constant workload (`workload[g]` VMs' worth of endless jobs) is
/// spread over its active VMs, oldest first; the rest waits as pending CPUs. A job on a draining VM ends
/// `drainJobSeconds` after the drain (endless jobs would pin draining VMs forever); a job whose VM is
/// destroyed goes back to waiting.
struct PoolSimulation {
    var snapshot: PoolSnapshot
    var now: Int
    var workload: [String: Int]
    var planner: Planner
    var step = 60
    var drainJobSeconds = 300
    var drainedAt: [String: Int] = [:]
    var created = 0
    /// Everything the planner asked for, step by step.
    var history: [Plan] = []

    init(snapshot: PoolSnapshot, workload: [String: Int], planner: Planner, now: Int = 0) {
        self.snapshot = snapshot
        self.workload = workload
        self.planner = planner
        self.now = now
        settle()
    }

    /// Plans, applies the plan, advances time. Returns the plan.
    @discardableResult
    mutating func tick() throws -> Plan {
        let plan = try planner.plan(snapshot, now: now)
        history.append(plan)
        apply(plan)
        now += step
        for i in snapshot.vms.indices where snapshot.vms[i].phase == .booting {
            snapshot.vms[i].phase = .active
            snapshot.vms[i].idleSince = now
        }
        settle()
        return plan
    }

    mutating func apply(_ plan: Plan) {
        for d in plan.directives {
            switch d.action {
            case .create(let group, let host):
                guard let g = snapshot[group: group] else { continue }
                created += 1
                snapshot.vms.append(
                    VMState(
                        id: "\(group)-new\(created)", group: group, host: host, phase: .booting, busy: false,
                        createdAt: now, cpus: g.vmCPUs, memoryMiB: g.vmMemoryMiB))
            case .drain(let id):
                if let i = snapshot.vms.firstIndex(where: { $0.id == id }) {
                    snapshot.vms[i].phase = .draining
                    drainedAt[id] = now
                }
            case .destroy(let id):
                snapshot.vms.removeAll { $0.id == id }
            case .migrate(let id, let host):
                if let i = snapshot.vms.firstIndex(where: { $0.id == id }) { snapshot.vms[i].host = host }
            }
        }
        snapshot = Build.withFreeFromVMs(snapshot)
    }

    /// Recomputes busy flags, pending demand, waits and host free room from the workload.
    mutating func settle() {
        for i in snapshot.vms.indices where snapshot.vms[i].phase == .draining && snapshot.vms[i].busy {
            if now - (drainedAt[snapshot.vms[i].id] ?? now) >= drainJobSeconds {
                snapshot.vms[i].busy = false
                snapshot.vms[i].idleSince = now
            }
        }
        for gi in snapshot.groups.indices {
            let name = snapshot.groups[gi].name
            let onDraining = snapshot.vms.filter { $0.group == name && $0.phase == .draining && $0.busy }.count
            var jobs = max(0, (workload[name] ?? 0) - onDraining)
            let active = snapshot.vms.indices
                .filter { snapshot.vms[$0].group == name && snapshot.vms[$0].phase == .active }
                .sorted {
                    (snapshot.vms[$0].createdAt, snapshot.vms[$0].id) < (
                        snapshot.vms[$1].createdAt, snapshot.vms[$1].id
                    )
                }
            for i in active {
                let busy = jobs > 0
                if busy { jobs -= 1 }
                if snapshot.vms[i].busy && !busy { snapshot.vms[i].idleSince = now }
                snapshot.vms[i].busy = busy
            }
            let hadPending = snapshot.groups[gi].pendingCPUs > 0
            snapshot.groups[gi].pendingJobs = jobs
            snapshot.groups[gi].pendingCPUs = jobs * snapshot.groups[gi].vmCPUs
            snapshot.groups[gi].oldestPendingWait =
                jobs > 0 ? (hadPending ? snapshot.groups[gi].oldestPendingWait + step : 0) : 0
        }
        snapshot = Build.withFreeFromVMs(snapshot)
    }

    /// Booting plus active VMs of the group.
    func holding(_ group: String) -> Int {
        snapshot.vms.filter { $0.group == group && $0.phase != .draining }.count
    }
}
