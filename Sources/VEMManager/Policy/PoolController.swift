import Foundation
import Synchronization
import VEMBatch
import VEMBus
import VEMConfig
import VEMPolicy
import VEMPool
import VEMProtocol

/// Where live migrations go when the program embedding the Manager says so, beside the site's `migration_uri`
/// template: per host, a libvirt URI used as given (a test's daemons on unix sockets: `qemu+unix:///system?socket=…`,
/// which a site file may not write), and the address for the migration's data (`tcp://127.0.0.1`). Code, not
/// configuration: `vem manager` leaves both empty.
public struct MigrationRoutes: Sendable, Hashable {
    /// The destination URI of each host, by Dom0 name.
    public var uris: [String: String]
    /// `vm.migrate`'s `migrate_uri` (nil: libvirt's choice).
    public var dataURI: String?

    /// Routes; none by default.
    public init(uris: [String: String] = [:], dataURI: String? = nil) {
        self.uris = uris
        self.dataURI = dataURI
    }
}

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

    /// The reconciler's state (inventory, decisions). The VMs it changed (``VEMPool/Reconciler/changedVMs``) are
    /// copied, one by one, into the view the triggers' `manager.vms` read, and noted for the journal's next
    /// inventory diff; then the reconciler forgets them. The view shares no storage with the reconciler's VMs, so
    /// the next change mutates them in place instead of copying all of them.
    public internal(set) var reconciler: Reconciler? {
        didSet {
            // Mutating the property in its own observer does not call the observer again.
            guard let changed = reconciler?.changedVMs, !changed.isEmpty else { return }
            reconciler?.clearChangedVMs()
            unjournaled.formUnion(changed)
            guard let vms = reconciler?.vms else { return }
            published.withLock { p in
                for id in changed { p.vms[id] = vms[id] }
                p.reports = nil
            }
        }
    }
    /// The VMs as of the reconciler's last change (a copy kept up to date VM by VM) and their reports once derived.
    private struct Published {
        var vms: [String: ManagedVM] = [:]
        var reports: [VMReport]?
    }
    /// The VMs as of the reconciler's last change, readable from any thread (a trigger pass does not wait for the
    /// pool's actor). A reader derives the reports when first asked after a change, into storage of their own.
    private nonisolated let published = Mutex(Published())
    /// The VMs changed since the inventory was last journaled (``inventoryChanges(at:)`` looks at these only).
    var unjournaled: Set<String> = []
    /// The groups' share, demand, target and held VMs at each plan (the dashboard, `/metrics`).
    public nonisolated let history = PoolHistory()
    /// Why the configured groups could not be used (nil when they could).
    public internal(set) var configurationError: String?
    /// The planner's explanation of the last rebalance (nil before the first).
    public private(set) var lastExplanation: String?
    /// The trigger of the last rebalance.
    public private(set) var lastTrigger: String?
    var planner: Planner
    var mapping = PoolCommandMapping()
    var batchClient: String?
    var seenDecisions = 0
    /// The batch Client's last demand reading, decoded.
    var decodedBatch: PoolInputs.DecodedBatch?
    /// The Dom0 hosts' name order at the last rebalance (``PoolInputs/NameOrder``).
    var hostOrder = PoolInputs.NameOrder()
    /// The trigger each operation in flight was issued for.
    var triggers: [Int: String] = [:]
    /// The address each VM's DomU Client connected from (its node address in the batch system).
    var addresses: [String: String] = [:]
    /// The Dom0 hosts of the last snapshot (the only destinations a migration may name).
    var inventoryHosts: Set<String> = []
    /// The demand properties the site's files define (looked for first).
    nonisolated var demandProperties: [(name: String, prefix: String)] { demandBox.withLock { $0 } }
    nonisolated let demandBox: Mutex<[(name: String, prefix: String)]>
    /// When each Dom0 Client was last asked for its domains, and the connection that was.
    var listed: [String: ListedHost] = [:]
    /// The reconciler's knobs (for a reconciler made by a reload when the start had no usable groups).
    let reconcilerConfiguration: Reconciler.Configuration
    /// Seconds between two `vm.list` of one host (besides the one after each of its joins).
    let listInterval: Double
    /// Seconds a host holding VMs may go without a connected Dom0 Client before its VMs whose guests are not
    /// connected either are lost (``VEMPool/Reconciler/onHostLost(_:keep:absentFor:now:)``).
    let hostLostGrace: Double
    /// Since when each host holding VMs has had no connected Dom0 Client.
    var hostsAbsentSince: [String: Double] = [:]
    /// The inputs of the last rebalance (what ``purePassMilliseconds(iterations:)`` plans again).
    var lastInputs: (batch: BatchSnapshot, hosts: [HostState], now: Int)?

    init(
        groups: [GroupDefinition], policy: PolicyConfiguration = PolicyConfiguration(),
        migrationURI: String = PoolCommandMapping.defaultMigrationURI, properties: [PropertyDefinition] = [],
        reconciler configuration: Reconciler.Configuration = Reconciler.Configuration(), listInterval: Double = 60,
        hostLostGrace: Double = 120, routes: MigrationRoutes = MigrationRoutes()
    ) {
        self.hostLostGrace = hostLostGrace
        mapping.migrationURIs = routes.uris
        mapping.migrationDataURI = routes.dataURI
        self.listInterval = listInterval
        reconcilerConfiguration = configuration
        planner = Planner(configuration: policy)
        demandBox = Mutex(PoolInputs.configured(properties))
        mapping.migrationURITemplate = migrationURI
        do {
            reconciler = try Reconciler(groups: groups.map(PoolGroup.init), configuration: configuration)
            configurationError = nil
        } catch {
            reconciler = nil
            configurationError = error.message
        }
    }

    /// The pool's VMs as of the reconciler's last change (`manager.vms` in triggers, `vem vms`).
    public nonisolated func currentVMs() -> [VMReport] {
        published.withLock { p in
            if let reports = p.reports { return reports }
            let reports = Self.reports(p.vms)
            p.reports = reports
            return reports
        }
    }

    /// The VMs for `vem vms`.
    func vmReports() -> [VMReport] { Self.reports(reconciler?.vms ?? [:]) }

    /// The reports of `vms` (stray nodes and nodes being checked left out), sorted by name: the names are sorted,
    /// not the records.
    private static func reports(_ vms: [String: ManagedVM]) -> [VMReport] {
        vms.keys.sorted().compactMap { name -> VMReport? in
            guard let vm = vms[name], vm.nodeCheckAfter == nil, !vm.isStrayNode else { return nil }
            return VMReport(
                name: vm.id, group: vm.group, host: vm.host, stage: vm.stage.rawValue, cpus: vm.cpus,
                memoryMiB: vm.memoryMiB, createdAt: vm.createdAt, clientJoined: vm.clientJoined,
                registered: vm.registered, busy: vm.busy, idleSince: vm.idleSince, migratingTo: vm.migratingTo,
                operationPending: vm.pending != nil)
        }
    }

    /// The inventory as the journal holds it (each record's `updatedAt` left at 0), so that only what changed is
    /// written (``inventoryChanges(at:)``).
    var journaledInventory: [String: InventoryRecord] = [:]

    /// What changed in the inventory since it was last journaled (upserts stamped `now`, names removed); from
    /// now on the journal is taken to hold the inventory as it is.
    ///
    /// Only the VMs the reconciler changed since the last call are looked at (``unjournaled``), each compared on
    /// the four fields the journal keeps, in name order: at 2,000 VMs, going through all of them at every Sender
    /// job cost 6 % of the Manager's CPU, and a sorted inventory 45 %.
    func inventoryChanges(at now: Double) -> Journal.InventoryChanges {
        var changes = Journal.InventoryChanges()
        guard !unjournaled.isEmpty else { return changes }
        let vms = reconciler?.vms ?? [:]
        for name in unjournaled.sorted() {
            guard let managed = vms[name], managed.nodeCheckAfter == nil, !managed.isStrayNode else {
                if journaledInventory.removeValue(forKey: name) != nil { changes.removed.append(name) }
                continue
            }
            let state = managed.phase.rawValue
            let createdAt = Double(managed.createdAt)
            if let old = journaledInventory[name], old.group == managed.group, old.host == managed.host,
                old.state == state, old.createdAt == createdAt
            {
                continue
            }
            journaledInventory[name] = InventoryRecord(
                name: name, group: managed.group, host: managed.host, state: state, updatedAt: 0, createdAt: createdAt)
            changes.upserts.append(
                InventoryRecord(
                    name: name, group: managed.group, host: managed.host, state: state, updatedAt: now,
                    createdAt: createdAt))
        }
        unjournaled = []
        return changes
    }

    /// The inventory as journal records.
    func inventory(at now: Double) -> [InventoryRecord] {
        (reconciler?.inventory ?? []).map {
            InventoryRecord(
                name: $0.id, group: $0.group, host: $0.host, state: $0.phase.rawValue, updatedAt: now,
                createdAt: Double($0.createdAt))
        }
    }

    /// Takes back the journal's VM inventory after a restart: each VM of a configured group joins the
    /// reconciler as it was (a VM past `booting` counts as registered with the batch system; its creation time
    /// is the journal's, or its last change in a journal written before creation times were kept). Returns the
    /// VMs adopted and the reasons others were not.
    func adopt(_ records: [InventoryRecord]) -> (adopted: Int, skipped: [String]) {
        for var r in records {
            r.updatedAt = 0
            journaledInventory[r.name] = r  // what the journal holds: a VM not adopted is removed at the next write
            unjournaled.insert(r.name)
        }
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
                id: r.name, group: group.name, host: host, phase: phase, createdAt: Int(r.createdAt ?? r.updatedAt),
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

    /// Reserves the names a journal mentions, so that no new VM takes one (``Reconciler/reserveNames(_:)``).
    func reserveNames(_ names: [String]) {
        reconciler?.reserveNames(names)
    }

    /// One `policy.rebalance()`: the batch Client's demand, the Dom0 Clients' `hypervisor` property, the groups
    /// and the inventory → the plan → the operations as commands.
    ///
    /// The snapshot is let go once its inputs are read, before the plan: while a snapshot shares the state's
    /// storage, the next report from a Dom0 or a guest copies every entry the pool reads, on an event loop.
    func rebalance(_ snapshot: consuming StateSnapshot, trigger: String, now: Double) -> Outcome {
        guard var reconciler else {
            return Outcome(refusal: "the groups cannot be used: \(configurationError ?? "none configured")")
        }
        let read = PoolInputs.read(snapshot, configured: demandProperties, cache: &decodedBatch, hostOrder: &hostOrder)
        _ = consume snapshot
        let inputs: PoolInputs
        switch read {
        case .success(let i): inputs = i
        case .failure(let reason): return Outcome(refusal: reason.message)
        }
        batchClient = inputs.batchClient
        mapping.batchPrefix = inputs.batchPrefix
        inventoryHosts = Set(inputs.hosts.map(\.name))
        let t = Int(now)
        lastInputs = (inputs.batch, inputs.hosts, t)
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
        history.record(at: now, step.plan.targets)
        lastTrigger = trigger
        var outcome = dispatches(step.operations, trigger: trigger, now: now)
        if outcome.dispatches.isEmpty && outcome.decisions.isEmpty {
            outcome.refusal = reconciler.paused ? "the planner is paused by the operator (vem resume)" : nil
        }
        return outcome
    }

    /// The pure pass alone, as the limit of a Manager's pass: `iterations` rebalances of a copy of the reconciler
    /// as it is now (snapshot, plan, operations; nothing sent, nothing kept) on the last rebalance's inputs, in
    /// milliseconds each. The copy is made and rebalanced once before the timed passes, so that they do not time
    /// the copy of its storage (the Manager's passes mutate the reconciler in place). Empty before the first
    /// rebalance.
    public func purePassMilliseconds(iterations: Int) -> [Double] {
        guard let reconciler, let inputs = lastInputs else { return [] }
        var copy = reconciler
        _ = try? copy.rebalance(batch: inputs.batch, hosts: inputs.hosts, now: inputs.now, planner: planner)
        var times: [Double] = []
        for _ in 0..<max(1, iterations) {
            let started = ContinuousClock.now
            _ = try? copy.rebalance(batch: inputs.batch, hosts: inputs.hosts, now: inputs.now, planner: planner)
            times.append(PassTimings.milliseconds(ContinuousClock.now - started))
        }
        return times
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
        return dispatches(next, trigger: trigger, now: now)
    }

    /// Moves the reconciler's time on (time-outs, retries after their back-off); the name in the journal's
    /// decisions is ``timerTrigger``. The batch Client is looked up in `snapshot` first, so that batch
    /// operations have a Client to go to before (or without) any `policy.rebalance()`.
    func tick(_ snapshot: StateSnapshot, now: Double) -> Outcome {
        guard var reconciler else { return Outcome() }
        let batch = PoolInputs.batch(in: snapshot, configured: demandProperties, cache: &decodedBatch)
        if case .success(let found) = batch {
            batchClient = found.client
            mapping.batchPrefix = found.prefix
        }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        var next = reconciler.tick(now: Int(now))
        next += lostHosts(&reconciler, snapshot, now: now)
        self.reconciler = reconciler
        return dispatches(next, trigger: Self.timerTrigger, now: now)
    }

    /// The hosts holding VMs whose Dom0 Client has been away for ``hostLostGrace`` (since its last word, or since
    /// this Manager first missed it): their VMs whose guests are not connected either are lost.
    private func lostHosts(_ reconciler: inout Reconciler, _ snapshot: StateSnapshot, now: Double) -> [PoolOperation] {
        var hosts = Set<String>()
        for vm in reconciler.vms.values where !vm.gone && !vm.host.isEmpty { hosts.insert(vm.host) }
        var absent: [String: Double] = [:]
        var lost: [(host: String, seconds: Int)] = []
        for host in hosts.sorted() {
            let entry = snapshot.clients[host]
            if entry?.connected == true { continue }
            let since = hostsAbsentSince[host] ?? entry?.lastSeen ?? now
            if now - since >= hostLostGrace { lost.append((host, Int(now - since))) } else { absent[host] = since }
        }
        hostsAbsentSince = absent
        guard !lost.isEmpty else { return [] }
        var guests = Set<String>()
        for entry in snapshot.clients.values where entry.connected && entry.identity.role == .domU {
            if let vm = entry.identity.vmID { guests.insert(vm) }
        }
        return lost.flatMap { reconciler.onHostLost($0.host, keep: guests, absentFor: $0.seconds, now: Int(now)) }
    }

    /// What the journal names as the cause of the pool's own time-outs and retries.
    static let timerTrigger = "vem.timer"

    /// A DomU Client joined: its VM's node is registered with the batch system, at `address` (the address its
    /// connection came from; a loopback address names no VM and is not used: the batch Client then resolves the
    /// node's name).
    /// Why a DomU Client's claim to be the guest of `vm` is not believed (nil: it is, or the VM is not the
    /// pool's): a guest speaks only for itself, so it must announce its VM's group, and once a VM's guest has
    /// joined from an address, another address cannot claim the VM.
    func guestRefusal(vm: String, group: String?, address: String?) -> String? {
        guard let record = reconciler?.vms[vm] else { return nil }
        if group != record.group {
            return "a guest announcing group \(LogText.quoted(group ?? "")) claims VM \(vm) of group \(record.group)"
        }
        if record.clientJoined, let known = addresses[vm], let address, address != known {
            return "a guest at \(address) claims VM \(vm), whose guest joined from \(known)"
        }
        return nil
    }

    func clientJoined(vm: String, address: String? = nil, now: Double) -> Outcome {
        guard var reconciler, reconciler.vms[vm] != nil else { return Outcome() }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        if let address, !Self.isLoopback(address) { addresses[vm] = address } else { addresses[vm] = nil }
        let next = reconciler.onClientJoined(vm, now: Int(now))
        self.reconciler = reconciler
        return dispatches(next, trigger: lastTrigger ?? "policy", now: now)
    }

    /// Why a migration to `to` must not be sent (nil: it may): the destination must be a Dom0 of the inventory
    /// whose name is a host-name word, and the URI built from the site's `migration_uri` must carry no query
    /// string, fragment, space or control character (a Client's name pasted into it cannot add any).
    func migrationRefusal(to: String, command: PoolCommand) -> String? {
        guard Admission.isHostNameWord(to), inventoryHosts.contains(to) else {
            return "migration refused: \(LogText.quoted(to)) is not a Dom0 of the inventory"
        }
        // A URI the program gave for this host (``MigrationRoutes``) is used as given.
        if mapping.migrationURIs[to] != nil { return nil }
        var uri = ""
        if case .string(let text) = command.arguments.first(where: { $0.name == "to" })?.value { uri = text }
        if uri.isEmpty || uri.contains("?") || uri.contains("#") || uri.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) {
            return "migration refused: the destination URI \(LogText.quoted(uri)) carries a query string or odd characters"
        }
        return nil
    }

    /// `127.0.0.0/8`, `::1` or `::ffff:127.…`.
    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    /// The commands for `operations` and the decisions logged since the last call. A batch operation with no
    /// batch Client to carry it fails at once, at `now` (the Manager's clock), and what follows from that
    /// failure is dispatched too.
    func dispatches(_ operations: [PoolOperation], trigger: String, now: Double) -> Outcome {
        var outcome = Outcome(trigger: trigger)
        var queue = operations[...]
        while let op = queue.popFirst() {
            var command = mapping.command(for: op)
            if case .migrateVM(_, let to) = op.kind, let refusal = migrationRefusal(to: to, command: command) {
                queue += reconciler?.onFailed(op.id, message: refusal, now: Int(now)) ?? []
                continue
            }
            if case .registerNode = op.kind, let address = addresses[op.vm] {
                command.arguments.append(NamedValue("", .string(address)))
            }
            if case .removeNode = op.kind { addresses[op.vm] = nil }
            let client: String
            switch command.target {
            case .host(let h): client = h
            case .batch:
                guard let batch = batchClient else {
                    queue += reconciler?.onFailed(op.id, message: "no batch client", now: Int(now)) ?? []
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
