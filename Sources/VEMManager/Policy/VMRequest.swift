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
            if let host {
                guard hosts.contains(where: { $0.name == host }) else {
                    return Outcome(refusal: "no Dom0 Client named '\(host)' has reported its hypervisor property")
                }
                action = .create(group: group, host: host)
            } else {
                // The reported free room, less what VMs not yet visible on the host will take.
                let booked = Dictionary(
                    reconciler.vms.values.filter { $0.stage == .creating }.map { ($0.host, $0.cpus) }, uniquingKeysWith: +)
                let room = hosts.map { ($0.name, $0.freeCPUs - (booked[$0.name] ?? 0)) }
                    .filter { $0.1 >= definition.vmCPUs }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                guard let best = room.first else {
                    return Outcome(refusal: "no host has \(definition.vmCPUs) free vCPUs for a VM of '\(group)'")
                }
                action = .create(group: group, host: best.0)
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
        return dispatches(operations, trigger: trigger)
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
