import Synchronization
import VEMBatch
import VEMBus
import VEMConfig
import VEMProtocol
import VEMRules

/// What triggers and the operator see, derived once from a ``StateSnapshot`` and the configuration: Clients,
/// hosts, VMs and groups as plain fields. It renders both as the trigger language's object model and as the
/// snapshot document of docs/SNAPSHOT.md (what `vem snapshot` writes and `vem eval --snapshot` reads).
public struct WorldView: Sendable {
    /// One Client: its fields, its property values and their ages.
    public struct ClientView: Sendable {
        /// `name`, `role`, `host`, `group`, `vm`, `incarnation`, `connected`, `connected_since`, `last_seen`.
        public var fields: [String: JSON]
        /// Property values by name (`None` for a property whose last reading failed).
        public var properties: [String: JSON]
        /// Seconds since each property was received.
        public var ages: [String: Double]
    }

    /// The connected Clients, sorted by name (`manager.clients`).
    public var clients: [ClientView]
    /// `manager.hosts`: one per real host a connected Client runs on.
    public var hosts: [[String: JSON]]
    /// `manager.vms`: the pool's VMs as the reconciler follows them, by name: `name`, `group`, `host`, `stage`
    /// (`creating` … `destroying`), `busy`, `cpus`, `memory_mib`, `registered`, `client_connected` (its DomU
    /// Client is connected now), `idle_since`, `migrating_to`, `operation_pending`. Connected guests are in
    /// ``clients``.
    public var vms: [[String: JSON]]
    /// `manager.groups`: the configured groups.
    public var groups: [[String: JSON]]

    /// Derives the view.
    /// - Parameters:
    ///   - snapshot: The state.
    ///   - groups: The configured groups.
    ///   - demand: The batch system's demand per group (the batch Client's demand property), when known.
    ///   - pool: The pool's VMs (``PoolController``), sorted by name.
    ///   - declaredProperties: The properties the site's files define (`[ram_free] command = ram`): a Client
    ///     that has not reported one yet has it as `None` (so `c.ram_free != None` guards it), while a name no
    ///     file defines stays an error (`'client' object has no attribute 'ram_fre'`, a typo caught).
    public init(
        _ snapshot: StateSnapshot, groups definitions: [GroupDefinition], demand: BatchSnapshot? = nil,
        pool: [VMReport] = [], declaredProperties: [String] = []
    ) {
        let now = snapshot.takenAt
        let connected = snapshot.connectedClients
        clients = connected.map { entry in
            let id = entry.identity
            let fields: [String: JSON] = [
                "name": .string(id.name), "role": .string(id.role.name), "host": .string(id.host),
                "group": id.group.map(JSON.string) ?? .null, "vm": id.vmID.map(JSON.string) ?? .null,
                "incarnation": .int(Int64(truncatingIfNeeded: id.incarnation)), "connected": .bool(entry.connected),
                "connected_since": .float(entry.connectedSince), "last_seen": .float(entry.lastSeen),
            ]
            var properties: [String: JSON] = [:]
            for name in declaredProperties { properties[name] = .null }
            var ages: [String: Double] = [:]
            for (name, property) in entry.properties {
                properties[name] = property.value ?? .null
                ages[name] = max(0, now - property.receivedAt)
            }
            return ClientView(fields: fields, properties: properties, ages: ages)
        }
        var hostNames: [String] = []
        var hostClients: [String: Int] = [:]
        var guests: Set<String> = []
        for entry in connected {
            let id = entry.identity
            if hostClients[id.host] == nil { hostNames.append(id.host) }
            hostClients[id.host, default: 0] += 1
            if id.role == .domU, let vm = id.vmID { guests.insert(vm) }
        }
        var hostVMs: [String: Int] = [:]
        var groupVMs: [String: Int] = [:]
        for vm in pool {
            hostVMs[vm.host, default: 0] += 1
            groupVMs[vm.group, default: 0] += 1
        }
        vms = pool.map { Self.fields(of: $0, connected: guests.contains($0.name)) }
        hosts = hostNames.sorted().map { name in
            ["name": .string(name), "clients": .int(Int64(hostClients[name] ?? 0)), "vms": .int(Int64(hostVMs[name] ?? 0))]
        }
        let demands = Dictionary((demand?.groups ?? []).map { ($0.group, $0) }, uniquingKeysWith: { a, _ in a })
        groups = definitions.map { g in
            // The batch system's view of the group (its queue and its nodes), when the batch Client reported it:
            // `demand` is the CPUs its pending jobs ask for.
            let d = demands[g.name]
            return [
                "name": .string(g.name), "share": .int(Int64(g.share)), "template": .string(g.template),
                "min_vms": .int(Int64(g.minVMs)), "max_vms": g.maxVMs.map { .int(Int64($0)) } ?? .null,
                "vm_vcpus": .int(Int64(g.vmVCPUs)), "vm_memory_mib": .int(Int64(g.vmMemoryMiB)),
                "partition": g.partition.map(JSON.string) ?? .null, "feature": g.feature.map(JSON.string) ?? .null,
                "vms": .int(Int64(groupVMs[g.name] ?? 0)),
                "demand": .int(Int64(d?.pendingCPUs ?? 0)), "demand_known": .bool(demand != nil),
                "pending_jobs": .int(Int64(d?.pendingJobs ?? 0)), "running_jobs": .int(Int64(d?.runningJobs ?? 0)),
                "running_cpus": .int(Int64(d?.runningCPUs ?? 0)), "longest_wait": .int(Int64(d?.longestWait ?? 0)),
                "nodes": .int(Int64(d?.nodes.count ?? 0)),
            ]
        }
    }

    /// One pool VM as `manager.vms` shows it.
    static func fields(of vm: VMReport, connected: Bool) -> [String: JSON] {
        [
            "name": .string(vm.name), "group": .string(vm.group), "host": .string(vm.host),
            "stage": .string(vm.stage), "busy": .bool(vm.busy), "cpus": .int(Int64(vm.cpus)),
            "memory_mib": .int(Int64(vm.memoryMiB)), "registered": .bool(vm.registered),
            "client_connected": .bool(connected), "idle_since": vm.idleSince.map { .int(Int64($0)) } ?? .null,
            "migrating_to": vm.migratingTo.map(JSON.string) ?? .null, "operation_pending": .bool(vm.operationPending),
        ]
    }

    /// The snapshot document (docs/SNAPSHOT.md): `{"clients": […], "hosts": […], "vms": […], "groups": […]}`.
    /// Each Client carries its `properties` and their `ages` (seconds).
    public var snapshotDocument: JSON {
        .object([
            "clients": .array(clients.map { c in
                var fields = c.fields
                fields["properties"] = .object(c.properties)
                fields["ages"] = .object(c.ages.mapValues(JSON.float))
                return .object(fields)
            }),
            "hosts": .array(hosts.map(JSON.object)),
            "vms": .array(vms.map(JSON.object)),
            "groups": .array(groups.map(JSON.object)),
        ])
    }

    /// The `manager` global over this view: the same object model `vem eval --snapshot` builds from
    /// ``snapshotDocument`` (VEMRules' ``VEMRules/Snapshot``), so an expression gives the same answer in both.
    public var managerObject: any HostObject { snapshot.manager }

    /// The view as the trigger language's snapshot.
    public var snapshot: Snapshot {
        func objects(_ items: [[String: JSON]], _ type: String) -> [SnapshotObject] {
            items.map { SnapshotObject(typeName: type, fields: $0, properties: nil) }
        }
        return Snapshot(
            clients: clients.map {
                SnapshotObject(typeName: "client", fields: $0.fields, properties: $0.properties, ages: $0.ages)
            },
            hosts: objects(hosts, "host"), vms: objects(vms, "vm"), groups: objects(groups, "group"))
    }
}

