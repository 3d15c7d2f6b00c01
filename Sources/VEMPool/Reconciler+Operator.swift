import VEMBatch
import VEMPolicy

/// What an operator asks of the pool (`vem pause`, `vem host drain HOST`, `vem vm forget VM`, …).
public enum OperatorAction: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The planner stops deciding; collection, triggers, time-outs and retries go on.
    case pause
    /// The planner decides again.
    case resume
    /// The host takes no new VM, and its VMs are moved off (live-migrated when migration is on, else drained and
    /// recreated elsewhere) by the next rebalances.
    case drainHost(String)
    /// The host takes new VMs again.
    case resumeHost(String)
    /// The VM's node takes no new jobs; the VM is destroyed once idle.
    case drainVM(String)
    /// The VM's node leaves the batch system and the VM is destroyed (a busy VM's node is marked down first: its
    /// jobs are requeued where the batch system may, else lost).
    case destroyVM(String)
    /// VEM stops tracking the VM without sending any command (for a VM whose host is gone for good). A host that
    /// still lists it has it adopted again.
    case forgetVM(String)

    /// The command line that asks for it: `vem host drain h1`, `vem pause`, …
    public var description: String {
        switch self {
        case .pause: "vem pause"
        case .resume: "vem resume"
        case .drainHost(let h): "vem host drain \(h)"
        case .resumeHost(let h): "vem host resume \(h)"
        case .drainVM(let v): "vem vm drain \(v)"
        case .destroyVM(let v): "vem vm destroy \(v)"
        case .forgetVM(let v): "vem vm forget \(v)"
        }
    }
}

extension Reconciler {
    /// What an operator action did: the operations to carry out now, and a sentence for the journal and the
    /// operator.
    public struct OperatorOutcome: Sendable, Hashable {
        /// The operations to carry out now.
        public var operations: [PoolOperation] = []
        /// What happened, in an operator's words (`the planner is paused`).
        public var summary: String
    }

    /// Carries out an operator's action, by `operatorName` (`operator@127.0.0.1`), at `now`. Pausing and
    /// draining a host take effect at the next rebalance; a VM action issues its operation at once, with the
    /// decision logged under the operator's name. Asking again for what already holds changes nothing and says so.
    /// - Throws: ``PoolError`` (`invalid_vm`) for an unknown VM, a VM with an operation under way or one in a
    ///   stage where the action makes no sense; (`invalid_input`) for a host name that is empty.
    public mutating func perform(
        _ action: OperatorAction, by operatorName: String, now: Int
    ) throws(PoolError) -> OperatorOutcome {
        let reason = "\(operatorName): \(action)"
        switch action {
        case .pause:
            defer { paused = true }
            return OperatorOutcome(summary: paused ? "the planner was paused already" : "the planner is paused")
        case .resume:
            defer { paused = false }
            return OperatorOutcome(summary: paused ? "the planner decides again" : "the planner was not paused")
        case .drainHost(let host):
            guard !host.isEmpty else { throw PoolError(.invalidInput, "no host named") }
            let (inserted, _) = drainedHosts.insert(host)
            let count = vms.values.filter { $0.host == host && !$0.gone }.count
            return OperatorOutcome(
                summary: (inserted ? "\(host) takes no new VMs" : "\(host) was being drained already")
                    + "; \(count) VM\(count == 1 ? "" : "s") on it to move" + (paused ? " (once the planner resumes)" : ""))
        case .resumeHost(let host):
            let removed = drainedHosts.remove(host) != nil
            return OperatorOutcome(summary: removed ? "\(host) takes new VMs again" : "\(host) was not being drained")
        case .drainVM(let id):
            let vm = try operable(id)
            guard vm.stage == .active, vm.registered else {
                throw PoolError(.invalidVM, "\(id) is \(vm.stage.rawValue): only an active VM can be drained")
            }
            let ops = apply([Directive(.drain(vm: id), reason: reason)], now: now)
            return OperatorOutcome(operations: ops, summary: "\(id) takes no new jobs; destroyed once idle")
        case .destroyVM(let id):
            let vm = try operable(id)
            let ops = apply([Directive(.destroy(vm: id), reason: reason)], now: now)
            guard !ops.isEmpty else { throw PoolError(.invalidVM, "\(id) is \(vm.stage.rawValue): it is being ended") }
            let busy = " (its node is marked down first: its running jobs are requeued, or lost if they may not be)"
            return OperatorOutcome(operations: ops, summary: "\(id) is being destroyed" + (vm.busy ? busy : ""))
        case .forgetVM(let id):
            guard let vm = vms[id], vm.nodeCheckAfter == nil, !vm.isStrayNode else {
                throw PoolError(.invalidVM, "no VM named \(id) in the pool")
            }
            if let p = vm.pending {
                inFlight[p] = nil
                issuedAt[p] = nil
            }
            log(.forget, vm, host: vm.host, now: now, reason)
            forget(id)
            return OperatorOutcome(summary: "\(id) is forgotten (no command sent: its domain and node are left as they are)")
        }
    }

    /// The VM, when an operator may act on it: known, not gone, no operation under way.
    func operable(_ id: String) throws(PoolError) -> ManagedVM {
        guard let vm = vms[id], !vm.gone, vm.nodeCheckAfter == nil else {
            throw PoolError(.invalidVM, "no VM named \(id) in the pool")
        }
        guard vm.pending == nil else {
            throw PoolError(.invalidVM, "\(id) has an operation under way; try again once it is done")
        }
        return vm
    }

    /// `hosts` as the planner sees them: a host the operator drained takes no new VM.
    public func hostsForPlanner(_ hosts: [HostState]) -> [HostState] {
        hosts.map { host in
            var h = host
            if drainedHosts.contains(h.name) { h.acceptingVMs = false }
            return h
        }
    }

    /// The operations that move VMs off the drained hosts (``VEMPolicy/Evacuation``), their decisions logged.
    mutating func evacuate(
        batch: BatchSnapshot, hosts: [HostState], configuration: PolicyConfiguration, now: Int
    ) -> [PoolOperation] {
        guard !drainedHosts.isEmpty else { return [] }
        let snapshot = snapshot(batch: batch, hosts: hosts)
        let busy = Set(vms.values.filter { $0.pending != nil }.map(\.id))
        return apply(Evacuation.directives(snapshot, configuration: configuration, busy: busy), now: now)
    }
}

/// What the operator's actions hold in place until they are undone: the planner paused (`vem pause`), the hosts
/// drained (`vem host drain`). A Manager journals it at each such action and restores it after a restart
/// (``Reconciler/restore(_:)``), so a restart neither resumes the planner nor sends VMs back to a host under
/// maintenance.
public struct OperatorHolds: Sendable, Hashable, Codable {
    /// Whether the planner is paused.
    public var paused: Bool
    /// The hosts that take no new VM and whose VMs are moved off.
    public var drainedHosts: Set<String>

    /// Creates holds (none by default).
    public init(paused: Bool = false, drainedHosts: Set<String> = []) {
        self.paused = paused
        self.drainedHosts = drainedHosts
    }

    /// Whether nothing is held.
    public var isEmpty: Bool { !paused && drainedHosts.isEmpty }

    /// Whether `action` changes what is held (pause, resume, host drain or resume; not the VM actions).
    public static func isChanged(by action: OperatorAction) -> Bool {
        switch action {
        case .pause, .resume, .drainHost, .resumeHost: true
        case .drainVM, .destroyVM, .forgetVM: false
        }
    }
}

extension Reconciler {
    /// What the operator's actions hold now.
    public var operatorHolds: OperatorHolds { OperatorHolds(paused: paused, drainedHosts: drainedHosts) }

    /// Takes back what the operator's actions held before a restart (from the journal): the same as performing
    /// them again, without a decision.
    public mutating func restore(_ holds: OperatorHolds) {
        paused = holds.paused
        drainedHosts = holds.drainedHosts
    }
}
