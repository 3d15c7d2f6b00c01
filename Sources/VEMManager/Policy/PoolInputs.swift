import VEMBatch
import VEMCore
import VEMConfig
import VEMPolicy
import VEMRules

/// What `policy.rebalance()` reads from the Manager's state: the batch Client's demand property (`slurm_demand`
/// or `replay_demand`, a ``VEMBatch/BatchSnapshot`` as a dict; see ``demandProperties``) and every connected
/// Dom0 Client's `hypervisor` property (its vCPUs and memory, free and total).
struct PoolInputs: Sendable {
    /// Why the inputs could not be read.
    struct Missing: Error {
        var message: String
    }

    /// The batch Client's name.
    var batchClient: String
    /// `slurm` or `replay`: the plugin prefix of the batch Client's commands.
    var batchPrefix: String
    /// Its snapshot.
    var batch: BatchSnapshot
    /// The Dom0 hosts (named like their Clients).
    var hosts: [HostState]

    /// The demand properties and the plugin prefix of their batch system, in the order they are looked for. A
    /// configured property cannot have a dot in its name (triggers read it as `c.slurm_demand`), so a site names
    /// it after its plugin with `_` (`[slurm_demand] command = slurm.demand`); the dotted names are what
    /// in-process Clients that report their plugins' values directly use.
    static let demandProperties: [(name: String, prefix: String)] = [
        ("slurm_demand", "slurm"), ("slurm.demand", "slurm"), ("replay_demand", "replay"), ("replay.demand", "replay"),
    ]

    /// The demand properties a site defines (`[pending_jobs] command = slurm.demand` in the Manager's files):
    /// each property whose command is a demand plugin, with that plugin's batch prefix.
    static func configured(_ properties: [PropertyDefinition]) -> [(name: String, prefix: String)] {
        let plugins = ["slurm.demand": "slurm", "replay.demand": "replay"]
        return properties.compactMap { p in plugins[p.command].map { (p.name, $0) } }
    }

    /// The last batch snapshot decoded, by the reading it came from: a rebalance that finds the same reading
    /// (same Client, property and arrival) reuses it instead of decoding the dict again.
    struct DecodedBatch: Sendable {
        var client: String
        var property: String
        var receivedAt: Double
        var batch: BatchSnapshot
    }

    /// The name order of the Clients of one role, as the last look-up found them: their names in the order the
    /// state's storage holds them, and the positions of those names sorted. While the same names come in the
    /// same storage order (no Client of the role joined or left: a report changes an entry, not the order), the
    /// sorted order is the same and is not sorted again (sorting the 1,000 Dom0 names was half a millisecond of
    /// every rebalance at 1,000 hosts).
    struct NameOrder: Sendable {
        var names: [String] = []
        var sorted: [Int] = []

        /// The positions of `names` in name order: the kept ones when `names` are the kept names.
        mutating func positions(of names: [String]) -> [Int] {
            if names != self.names {
                self.names = names
                sorted = names.indices.sorted { names[$0] < names[$1] }
            }
            return sorted
        }
    }

    /// Reads the inputs; `configured` demand properties are looked for before the ``demandProperties``.
    static func read(
        _ snapshot: StateSnapshot, configured: [(name: String, prefix: String)] = []
    ) -> Result<PoolInputs, Missing> {
        var cache: DecodedBatch?
        var order = NameOrder()
        return read(snapshot, configured: configured, cache: &cache, hostOrder: &order)
    }

    /// ``read(_:configured:)``, reusing the batch snapshot `cache` holds when its reading has not changed (a
    /// new reading replaces it there), and the Dom0 hosts' name order `hostOrder` holds while it is the same.
    static func read(
        _ snapshot: StateSnapshot, configured: [(name: String, prefix: String)], cache: inout DecodedBatch?,
        hostOrder: inout NameOrder
    ) -> Result<PoolInputs, Missing> {
        let found: (client: String, prefix: String, batch: BatchSnapshot)
        switch batch(in: snapshot, configured: configured, cache: &cache) {
        case .success(let f): found = f
        case .failure(let missing): return .failure(missing)
        }
        let hosts = hosts(in: snapshot, order: &hostOrder)
        guard !hosts.isEmpty else {
            return .failure(Missing(message: "no connected dom0 client has reported its hypervisor property"))
        }
        return .success(PoolInputs(batchClient: found.client, batchPrefix: found.prefix, batch: found.batch, hosts: hosts))
    }

    /// The Dom0 hosts that reported their `hypervisor` property (named like their Clients), in name order.
    static func hosts(in snapshot: StateSnapshot) -> [HostState] {
        var order = NameOrder()
        return hosts(in: snapshot, order: &order)
    }

    /// ``hosts(in:)``, with the name order `order` holds while it is the same.
    static func hosts(in snapshot: StateSnapshot, order: inout NameOrder) -> [HostState] {
        var hosts: [HostState] = []
        let clients = snapshot.clients
        for i in connected(.dom0, in: snapshot, order: &order) {
            let name = clients.keys[i]
            guard case .object(let fields)? = clients.values[i].properties["hypervisor"]?.value else { continue }
            func int(_ key: String) -> Int? {
                switch fields[key] {
                case .int(let i)?: Int(i)
                case .float(let d)? where d.isFinite: Int(d)
                default: nil
                }
            }
            guard let cpus = int("cpus"), let memoryKiB = int("memory_kib") else { continue }
            let freeKiB = int("unallocated_memory_kib") ?? int("free_memory_kib")
            hosts.append(
                HostState(
                    name: name, cpus: cpus, memoryMiB: memoryKiB / 1024, freeCPUs: int("free_vcpus"),
                    freeMemoryMiB: freeKiB.map { $0 / 1024 }))
        }
        return hosts
    }

    /// The positions in `snapshot.clients` of the connected Clients of one role, in name order: each entry is
    /// read in place, none is copied (copying all 10,000 to find the batch Client, at every trigger pass that
    /// reads `manager`, cost more than the look-up; copying the 1,000 Dom0 entries to sort them, a third of a
    /// rebalance's reading of its inputs), and the names are sorted only when they changed (``NameOrder``).
    static func connected(
        _ role: ClientRole, in snapshot: StateSnapshot, order: inout NameOrder
    ) -> [Dictionary<String, ClientEntry>.Index] {
        var names: [String] = []
        var indices: [Dictionary<String, ClientEntry>.Index] = []
        let clients = snapshot.clients
        var i = clients.startIndex
        while i != clients.endIndex {
            if clients.values[i].connected && clients.values[i].identity.role == role {
                names.append(clients.keys[i])
                indices.append(i)
            }
            clients.formIndex(after: &i)
        }
        return order.positions(of: names).map { indices[$0] }
    }

    /// The batch Client's demand: the first connected batch Client's first demand property that decodes
    /// (`configured` ones first), reusing `cache` while the reading has not changed.
    static func batch(
        in snapshot: StateSnapshot, configured: [(name: String, prefix: String)], cache: inout DecodedBatch?
    ) -> Result<(client: String, prefix: String, batch: BatchSnapshot), Missing> {
        var problems: [String] = []
        var order = NameOrder()
        let clients = snapshot.clients
        for i in connected(.batch, in: snapshot, order: &order) {
            let (name, entry) = (clients.keys[i], clients.values[i])
            for (property, prefix) in configured + demandProperties {
                guard let reading = entry.properties[property] else { continue }
                if let c = cache, c.client == name, c.property == property, c.receivedAt == reading.receivedAt {
                    return .success((name, prefix, c.batch))
                }
                guard let value = reading.value, let batch = decodeBatch(value) else {
                    problems.append("\(name)'s \(property) is not a batch snapshot\(reading.error.map { " (\($0))" } ?? "")")
                    continue
                }
                cache = DecodedBatch(client: name, property: property, receivedAt: reading.receivedAt, batch: batch)
                return .success((name, prefix, batch))
            }
        }
        let why =
            problems.isEmpty
            ? "no connected batch client has reported slurm_demand or replay_demand"
            : problems.joined(separator: "; ")
        return .failure(Missing(message: why))
    }

    /// A demand property's value as a snapshot: the dict the plugin reported, as it came off the wire.
    static func decodeBatch(_ value: JSON) -> BatchSnapshot? {
        try? value.decode(BatchSnapshot.self)
    }
}
