import VEMAgent
import VEMLibvirt

/// The `hypervisor` property: the host's capacity for new VMs and its VEM domains, as JSON.
///
/// Without parameters the value is the whole object:
/// ```json
/// {"uri":"qemu:///system","cpus":8,"memory_kib":16777216,"free_memory_kib":…,
///  "unallocated_memory_kib":…,"free_vcpus":6,"domains_per_group":{"atlas":1},
///  "domains":[{"name":"atlas-1","group":"atlas","vm":"atlas-1","state":"running",…}]}
/// ```
/// `free_memory_kib` is what the hypervisor reports free; `unallocated_memory_kib` and `free_vcpus` are the
/// host's memory and CPUs minus what its running domains were given. `domains` lists VEM's domains only
/// (`all_domains` every domain). One parameter selects one field (`parameters = free_vcpus`).
public struct HypervisorPropertyPlugin: PropertyPlugin {
    /// `hypervisor`.
    public let name = "hypervisor"
    private let host: HypervisorHost

    /// The fields one parameter may select.
    public static let fields = [
        "uri", "cpus", "memory_kib", "free_memory_kib", "unallocated_memory_kib", "free_vcpus",
        "domains_per_group", "domains", "all_domains",
    ]

    /// Creates the plugin for a host.
    public init(host: HypervisorHost) { self.host = host }

    /// Reads the host.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        guard parameters.count <= 1 else {
            throw AgentError(.badParameters, "hypervisor takes at most one parameter, got \(parameters.count)")
        }
        if let field = parameters.first, !Self.fields.contains(field) {
            throw AgentError(
                .badParameters, "hypervisor has no field '\(field)' (known: \(Self.fields.joined(separator: ", ")))")
        }
        let object: [String: PropertyValue]
        do {
            let connection = try await host.connection()
            let node = try await connection.nodeInfo()
            let domains = try await connection.domains()
            object = Self.summary(uri: connection.uri, node: node, domains: domains)
        } catch {
            throw AgentError(error, doing: "hypervisor")
        }
        guard let field = parameters.first else { return .object(object) }
        return object[field] ?? .null
    }

    /// The property's object for a node and its domains.
    static func summary(uri: String, node: NodeInfo, domains: [DomainInfo]) -> [String: PropertyValue] {
        let active = domains.filter(\.state.isActive)
        let usedMemory = active.reduce(UInt64(0)) { $0 + $1.memoryKiB }
        let usedVCPUs = active.reduce(0) { $0 + $1.vcpus }
        var perGroup: [String: PropertyValue] = [:]
        for d in domains {
            guard let group = d.instance?.group else { continue }
            if case .int(let n) = perGroup[group] { perGroup[group] = .int(n + 1) } else { perGroup[group] = .int(1) }
        }
        return [
            "uri": .string(uri),
            "cpus": .int(Int64(node.cpus)),
            "memory_kib": .int(Int64(node.memoryKiB)),
            "free_memory_kib": .int(Int64(node.freeMemoryKiB)),
            "unallocated_memory_kib": .int(Int64(node.memoryKiB > usedMemory ? node.memoryKiB - usedMemory : 0)),
            "free_vcpus": .int(Int64(max(0, node.cpus - usedVCPUs))),
            "domains_per_group": .object(perGroup),
            "domains": .array(domains.filter { $0.instance != nil }.map(\.propertyValue)),
            "all_domains": .array(domains.map(\.propertyValue)),
        ]
    }
}

/// Registers the hypervisor plugins of one host.
public enum HypervisorPlugins {
    /// The command names this module provides (for the Client's allowlist).
    public static let commandNames: Set<String> = ["vm.create", "vm.destroy", "vm.migrate", "vm.list"]

    /// Adds `vm.create`, `vm.destroy`, `vm.migrate`, `vm.list` and the `hypervisor` property to a registry.
    /// - Throws: `AgentError` `.duplicatePlugin` when a name is taken.
    public static func register(into registry: inout PluginRegistry, host: HypervisorHost) throws {
        try registry.registerCommand(VMCreateCommand(host: host))
        try registry.registerCommand(VMDestroyCommand(host: host))
        try registry.registerCommand(VMMigrateCommand(host: host))
        try registry.registerCommand(VMListCommand(host: host))
        try registry.registerProperty(HypervisorPropertyPlugin(host: host))
    }
}
