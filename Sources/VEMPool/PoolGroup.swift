import VEMConfig

/// One group as the pool needs it: its share weight, the size and template of its VMs and its bounds.
///
/// Built from the configuration's ``VEMConfig/GroupDefinition`` (``init(_:)``) or directly (simulation, tests).
public struct PoolGroup: Sendable, Hashable, Codable {
    /// The weight a group configured with `share = 0` gets: it receives only what other groups leave unused.
    public static let leftoverShare = 0.001

    /// The group's name (`[group:atlas]` → `atlas`); also the batch group the replay batch knows it by.
    public var name: String
    /// The share weight (> 0; relative to the sum over all groups).
    public var share: Double
    /// vCPUs of one VM (at least 1).
    public var vmCPUs: Int
    /// Memory of one VM, in MiB.
    public var vmMemoryMiB: Int
    /// The template the group's VMs are built from.
    public var template: String
    /// VMs kept even without demand.
    public var minVMs: Int
    /// VMs never exceeded; `nil` for no limit.
    public var maxVMs: Int?

    /// Creates a group; the template defaults to the group's name.
    public init(
        name: String, share: Double, vmCPUs: Int = 1, vmMemoryMiB: Int = 2048, template: String? = nil,
        minVMs: Int = 0, maxVMs: Int? = nil
    ) {
        self.name = name
        self.share = share
        self.vmCPUs = vmCPUs
        self.vmMemoryMiB = vmMemoryMiB
        self.template = template ?? name
        self.minVMs = minVMs
        self.maxVMs = maxVMs
    }

    /// The group a configuration's `[group:…]` section describes. `share` is the percentage; a share of 0
    /// becomes ``leftoverShare``.
    public init(_ definition: GroupDefinition) {
        self.init(
            name: definition.name, share: definition.share > 0 ? Double(definition.share) : Self.leftoverShare,
            vmCPUs: definition.vmVCPUs, vmMemoryMiB: definition.vmMemoryMiB, template: definition.template,
            minVMs: definition.minVMs, maxVMs: definition.maxVMs)
    }

    /// Checks a list of groups: non-empty unique names, positive finite shares, at least one vCPU per VM.
    /// - Throws: ``PoolError`` (`invalid_group`).
    public static func validate(_ groups: [PoolGroup]) throws(PoolError) {
        var names: Set<String> = []
        for g in groups {
            guard !g.name.isEmpty else { throw PoolError(.invalidGroup, "a group has an empty name") }
            guard names.insert(g.name).inserted else { throw PoolError(.invalidGroup, "group \(g.name) appears twice") }
            guard g.share.isFinite, g.share > 0 else {
                throw PoolError(.invalidGroup, "group \(g.name): share must be > 0, not \(g.share)")
            }
            guard g.vmCPUs >= 1, g.vmMemoryMiB >= 0 else {
                throw PoolError(.invalidGroup, "group \(g.name): a VM needs at least 1 vCPU and no negative memory")
            }
            guard g.minVMs >= 0, (g.maxVMs ?? g.minVMs) >= g.minVMs else {
                throw PoolError(.invalidGroup, "group \(g.name): min_vms must be between 0 and max_vms")
            }
        }
    }
}
