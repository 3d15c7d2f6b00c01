import Foundation
import Synchronization
import VEMBatch
import VEMConfig
import VEMPolicy
import VEMPool
import VEMProtocol

/// The Manager's pool: the ``VEMPool/Reconciler`` (VM inventory, operations in flight, decision log) kept for
/// the Manager's life, the ``VEMPolicy/Planner`` and the mapping of operations to Client commands. The Sender
/// drives it for `policy.rebalance()` and feeds it the commands' outcomes; the Listener feeds it DomU joins.
public actor PoolController {
    /// One command to send for an operation.
    struct Dispatch: Sendable {
        var operation: PoolOperation
        var client: String
        var command: PoolCommand
        var trigger: String
    }

    /// What a rebalance produced: the commands to send, the new decisions, or why it could not run.
    struct Outcome: Sendable {
        var dispatches: [Dispatch] = []
        var decisions: [PoolDecision] = []
        var refusal: String?
        var trigger = "policy"
    }

    /// The reconciler's state (inventory, decisions). Each change is published for the triggers' `manager.vms`
    /// (a `nil` while a method holds the only copy is not).
    public internal(set) var reconciler: Reconciler? {
        didSet { if reconciler != nil { published.withLock { $0 = vmReports() } } }
    }
    /// The VMs as of the reconciler's last change, readable from any thread (a trigger pass does not wait for the
    /// pool's actor).
    private nonisolated let published = Mutex<[VMReport]>([])
    /// Why the configured groups could not be used (nil when they could).
    public let configurationError: String?
    /// The planner's explanation of the last rebalance (nil before the first).
    public private(set) var lastExplanation: String?
    /// The trigger of the last rebalance.
    public private(set) var lastTrigger: String?
    let planner: Planner
    var mapping = PoolCommandMapping()
    var batchClient: String?
    var seenDecisions = 0
    /// The batch Client's last demand reading, decoded.
    var decodedBatch: PoolInputs.DecodedBatch?
    /// The trigger each operation in flight was issued for.
    var triggers: [Int: String] = [:]
    /// The address each VM's DomU Client connected from (its node address in the batch system).
    var addresses: [String: String] = [:]
    /// The demand properties the site's files define (looked for first).
    let demandProperties: [(name: String, prefix: String)]

    init(
        groups: [GroupDefinition], policy: PolicyConfiguration = PolicyConfiguration(),
        migrationURI: String = PoolCommandMapping.defaultMigrationURI, properties: [PropertyDefinition] = []
    ) {
        planner = Planner(configuration: policy)
        demandProperties = PoolInputs.configured(properties)
        mapping.migrationURITemplate = migrationURI
        do {
            reconciler = try Reconciler(groups: groups.map(PoolGroup.init))
            configurationError = nil
        } catch {
            reconciler = nil
            configurationError = error.message
        }
    }

    /// The pool's VMs as of the reconciler's last change (`manager.vms` in triggers, `vem vms`).
    public nonisolated func currentVMs() -> [VMReport] { published.withLock { $0 } }

    /// The VMs for `vem vms`.
    func vmReports() -> [VMReport] {
        (reconciler?.vms.values.filter { $0.nodeCheckAfter == nil }.sorted { $0.id < $1.id } ?? []).map { vm in
            VMReport(
                name: vm.id, group: vm.group, host: vm.host, stage: vm.stage.rawValue, cpus: vm.cpus,
                memoryMiB: vm.memoryMiB, createdAt: vm.createdAt, clientJoined: vm.clientJoined,
                registered: vm.registered, busy: vm.busy, idleSince: vm.idleSince, migratingTo: vm.migratingTo,
                operationPending: vm.pending != nil)
        }
    }

    /// The inventory as journal records.
    func inventory(at now: Double) -> [InventoryRecord] {
        (reconciler?.inventory ?? []).map {
            InventoryRecord(name: $0.id, group: $0.group, host: $0.host, state: $0.phase.rawValue, updatedAt: now)
        }
    }

    /// Takes back the journal's VM inventory after a restart: each VM of a configured group joins the
    /// reconciler as it was (a VM past `booting` counts as registered with the batch system; its creation time
    /// is taken to be its last change). Returns the VMs adopted and the reasons others were not.
    func adopt(_ records: [InventoryRecord]) -> (adopted: Int, skipped: [String]) {
        guard var reconciler else { return (0, records.map { "\($0.name): no usable groups" }) }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        var adopted = 0
        var skipped: [String] = []
        for r in records {
            guard let groupName = r.group, let group = reconciler.group(named: groupName), let host = r.host,
                let phase = VMState.Phase(rawValue: r.state)
            else {
                skipped.append("\(r.name): group, host or state (\(r.state)) not usable")
                continue
            }
            let record = VMRecord(
                id: r.name, group: group.name, host: host, phase: phase, createdAt: Int(r.updatedAt),
                cpus: group.vmCPUs, memoryMiB: group.vmMemoryMiB)
            do {
                try reconciler.adopt(record, registered: phase != .booting)
                adopted += 1
            } catch {
                skipped.append("\(r.name): \(error.message)")
            }
        }
        self.reconciler = reconciler
        return (adopted, skipped)
    }

    /// One `policy.rebalance()`: the batch Client's demand, the Dom0 Clients' `hypervisor` property, the groups
    /// and the inventory → the plan → the operations as commands.
    func rebalance(_ snapshot: StateSnapshot, trigger: String, now: Double) -> Outcome {
        guard var reconciler else {
            return Outcome(refusal: "the groups cannot be used: \(configurationError ?? "none configured")")
        }
        let inputs: PoolInputs
        switch PoolInputs.read(snapshot, configured: demandProperties, cache: &decodedBatch) {
        case .success(let i): inputs = i
        case .failure(let reason): return Outcome(refusal: reason.message)
        }
        batchClient = inputs.batchClient
        mapping.batchPrefix = inputs.batchPrefix
        let t = Int(now)
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        let step: Reconciler.Step
        do {
            step = try reconciler.rebalance(batch: inputs.batch, hosts: inputs.hosts, now: t, planner: planner)
        } catch {
            self.reconciler = reconciler
            return Outcome(refusal: "the planner refused: \(error.message)")
        }
        self.reconciler = reconciler
        lastExplanation = step.plan.explanation
        lastTrigger = trigger
        var outcome = dispatches(step.operations, trigger: trigger)
        if outcome.dispatches.isEmpty && outcome.decisions.isEmpty { outcome.refusal = nil }
        return outcome
    }

    /// An operation's command finished (`error` nil: it succeeded).
    func settle(_ operation: Int, error: String?, now: Double) -> Outcome {
        guard var reconciler else { return Outcome() }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        let trigger = triggers.removeValue(forKey: operation) ?? "policy"
        let next =
            if let error { reconciler.onFailed(operation, message: error, now: Int(now)) } else {
                reconciler.onSucceeded(operation, now: Int(now))
            }
        self.reconciler = reconciler
        return dispatches(next, trigger: trigger)
    }

    /// A DomU Client joined: its VM's node is registered with the batch system, at `address` (the address its
    /// connection came from; a loopback address names no VM and is not used: the batch Client then resolves the
    /// node's name).
    func clientJoined(vm: String, address: String? = nil, now: Double) -> Outcome {
        guard var reconciler, reconciler.vms[vm] != nil else { return Outcome() }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        if let address, !Self.isLoopback(address) { addresses[vm] = address } else { addresses[vm] = nil }
        let next = reconciler.onClientJoined(vm, now: Int(now))
        self.reconciler = reconciler
        return dispatches(next, trigger: lastTrigger ?? "policy")
    }

    /// `127.0.0.0/8`, `::1` or `::ffff:127.…`.
    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    /// The commands for `operations` and the decisions logged since the last call.
    func dispatches(_ operations: [PoolOperation], trigger: String) -> Outcome {
        var outcome = Outcome(trigger: trigger)
        for op in operations {
            var command = mapping.command(for: op)
            if case .registerNode = op.kind, let address = addresses[op.vm] {
                command.arguments.append(NamedValue("", .string(address)))
            }
            if case .removeNode = op.kind { addresses[op.vm] = nil }
            let client: String
            switch command.target {
            case .host(let h): client = h
            case .batch:
                guard let batch = batchClient else {
                    _ = reconciler?.onFailed(op.id, message: "no batch client", now: 0)
                    continue
                }
                client = batch
            }
            triggers[op.id] = trigger
            outcome.dispatches.append(Dispatch(operation: op, client: client, command: command, trigger: trigger))
        }
        if let reconciler {
            let new = reconciler.decisionsLogged - seenDecisions
            outcome.decisions = Array(reconciler.decisions.suffix(min(new, reconciler.decisions.count)))
            seenDecisions = reconciler.decisionsLogged
        }
        return outcome
    }
}
