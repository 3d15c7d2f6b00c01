import VEMPolicy
import VEMPool

/// A trigger's `vm.*` action: one VM operation asked for by name, carried out through the pool's reconciler
/// like a planner directive (same life, same commands, same decision log), with the trigger as its reason.
///
/// The planner's next `policy.rebalance()` sees the result and may undo it (a VM created beyond a group's target
/// is surplus, for instance): a site that steers VMs by hand runs without `vem.rebalance`.
public enum VMRequest: Hashable, Sendable, CustomStringConvertible {
    /// `vm.create(group, host=None)`: a new VM of the group, on `host` or on the host with the most free vCPUs.
    case create(group: String, host: String?)
    /// `vm.destroy(v)`: its node leaves the batch system, then the VM is destroyed (a busy VM's jobs are lost).
    case destroy(vm: String)
    /// `vm.drain(v)`: its node takes no new jobs; the VM is destroyed once idle by the next rebalance.
    case drain(vm: String)
    /// `vm.migrate(v, host)`: a live migration.
    case migrate(vm: String, host: String)

    /// `vm.create(atlas, host=h1)`, …
    public var description: String {
        switch self {
        case .create(let group, let host): "vm.create(\(group)\(host.map { ", host=\($0)" } ?? ""))"
        case .destroy(let vm): "vm.destroy(\(vm))"
        case .drain(let vm): "vm.drain(\(vm))"
        case .migrate(let vm, let host): "vm.migrate(\(vm), \(host))"
        }
    }
}

extension PoolController {
    /// Carries out a trigger's `vm.*` action: checks it against the groups, hosts and VMs, applies it as one
    /// directive, and returns the commands (or why it was refused).
    func act(_ request: VMRequest, snapshot: StateSnapshot, trigger: String, now: Double) -> Outcome {
        guard var reconciler else {
            return Outcome(refusal: "the groups cannot be used: \(configurationError ?? "none configured")")
        }
        let reason = "asked by trigger \(trigger)"
        let hosts = PoolInputs.hosts(in: snapshot)
        inventoryHosts = Set(hosts.map(\.name))
        let action: Directive.Action
        switch request {
        case .create(let group, let host):
            guard let definition = reconciler.group(named: group) else {
                return Outcome(refusal: "no group named '\(group)'")
            }
            let rooms = hosts.map { Self.room(on: $0, reconciler: reconciler, snapshot: snapshot) }
            let fits = { (room: HostRoom) in
                room.cpus >= definition.vmCPUs && room.memoryMiB >= definition.vmMemoryMiB
            }
            let size = "\(definition.vmCPUs) vCPUs and \(definition.vmMemoryMiB) MiB"
            if let host {
                guard let room = rooms.first(where: { $0.host == host }) else {
                    return Outcome(refusal: "no Dom0 Client named '\(host)' has reported its hypervisor property")
                }
                guard fits(room) else {
                    return Outcome(
                        refusal: "\(host) has no room for a VM of '\(group)' (\(size)): \(room.cpus) vCPUs and "
                            + "\(room.memoryMiB) MiB free, counting the VMs it does not report yet")
                }
                action = .create(group: group, host: host)
            } else {
                let room = rooms.filter(fits).sorted { $0.cpus != $1.cpus ? $0.cpus > $1.cpus : $0.host < $1.host }
                guard let best = room.first else {
                    return Outcome(refusal: "no host has \(size) free for a VM of '\(group)'")
                }
                action = .create(group: group, host: best.host)
            }
        case .destroy(let vm), .drain(let vm), .migrate(let vm, _):
            guard let managed = reconciler.vms[vm] else { return Outcome(refusal: "no VM named '\(vm)' in the pool") }
            if managed.pending != nil { return Outcome(refusal: "\(vm) has an operation under way") }
            switch request {
            case .migrate(_, let host) where !hosts.contains(where: { $0.name == host }):
                return Outcome(refusal: "no Dom0 Client named '\(host)' has reported its hypervisor property")
            case .migrate(_, let host): action = .migrate(vm: vm, host: host)
            case .drain: action = .drain(vm: vm)
            default: action = .destroy(vm: vm)
            }
        }
        let operations = reconciler.apply([Directive(action, reason: reason)], now: Int(now))
        self.reconciler = reconciler
        guard !operations.isEmpty else {
            let stage = request.vmName.flatMap { reconciler.vms[$0]?.stage.rawValue } ?? "?"
            return Outcome(refusal: "\(request) does not apply to a VM that is \(stage)")
        }
        return dispatches(operations, trigger: trigger, now: now)
    }
}

/// A host's free room for a new VM: what its `hypervisor` property reports, less what the pool's VMs not yet in
/// that report will take.
struct HostRoom: Sendable, Hashable {
    var host: String
    var cpus: Int
    var memoryMiB: Int
}

extension PoolController {
    /// The room on `host`: its reported free vCPUs and memory, less the VMs being created on it and those created
    /// since its report was received (the host cannot show them yet).
    static func room(on host: HostState, reconciler: Reconciler, snapshot: StateSnapshot) -> HostRoom {
        let reportedAt = snapshot.clients[host.name]?.properties["hypervisor"]?.receivedAt ?? -Double.infinity
        let unseen = reconciler.vms.values.filter {
            $0.host == host.name && !$0.gone && ($0.stage == .creating || Double($0.createdAt) + 1 > reportedAt)
        }
        return HostRoom(
            host: host.name, cpus: host.freeCPUs - unseen.reduce(0) { $0 + $1.cpus },
            memoryMiB: host.freeMemoryMiB - unseen.reduce(0) { $0 + $1.memoryMiB })
    }
}

extension VMRequest {
    /// The VM acted on (nil for a create).
    var vmName: String? {
        switch self {
        case .create: nil
        case .destroy(let vm), .drain(let vm), .migrate(let vm, _): vm
        }
    }
}
