import VEMBatch

/// What ``SlurmBatch/registerNode(_:address:hostname:)`` left in Slurm: the group's node at the given address,
/// created by this call or found there and adopted.
public struct RegisteredNode: Sendable, Hashable, Codable {
    /// The node's name.
    public var name: String
    /// The VEM group it serves.
    public var group: String
    /// The group's feature, which the node has.
    public var feature: String
    /// Its `NodeAddr` (the address registration was asked for).
    public var address: String
    /// CPUs as Slurm has them (for an adopted node: what its `slurmd -Z` declared).
    public var cpus: Int
    /// Memory in MiB as Slurm has it.
    public var memoryMB: Int
    /// Slurm's state of the node after registration (`FUTURE+DYNAMIC_NORM`, `IDLE+DYNAMIC_NORM`, …).
    public var slurmState: String
    /// True when Slurm had the node already: a registration retried after its reply was lost, or a guest whose
    /// `slurmd -Z` registered the node before VEM did.
    public var adopted: Bool
    /// The node's `NodeAddr` before registration moved it to ``address``, when it had another one.
    public var previousAddress: String?

    /// Creates a description.
    public init(
        name: String, group: String, feature: String, address: String, cpus: Int, memoryMB: Int, slurmState: String,
        adopted: Bool, previousAddress: String? = nil
    ) {
        self.name = name
        self.group = group
        self.feature = feature
        self.address = address
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.slurmState = slurmState
        self.adopted = adopted
        self.previousAddress = previousAddress
    }
}

/// One node as `scontrol -o --future show node NAME` prints it, reduced to what registration needs.
struct ShownNode: Sendable, Hashable {
    /// `NodeName=`.
    var name: String
    /// `AvailableFeatures=` split at commas (empty for `(null)`).
    var features: [String]
    /// `NodeAddr=`.
    var address: String
    /// `State=` (`FUTURE+DYNAMIC_NORM`, `IDLE+DYNAMIC_NORM`, `IDLE` for a node from slurm.conf, …).
    var state: String
    /// `CPUTot=`.
    var cpus: Int?
    /// `RealMemory=`.
    var memoryMB: Int?

    /// True for a node made by `scontrol create` or `slurmd -Z` (the kind `scontrol delete` removes).
    var isDynamic: Bool { state.contains("DYNAMIC_NORM") }

    /// Reads the line.
    /// - Throws: ``SlurmError`` `.malformedOutput` when it has no `NodeName=` or `State=`.
    init(parsing text: String) throws {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("NodeName=") }).map(String.init),
            let name = SlurmBatch.field("NodeName", in: line), let state = SlurmBatch.field("State", in: line)
        else {
            throw SlurmError(.malformedOutput, "scontrol show node printed no node", cause: String(text.prefix(200)))
        }
        self.name = name
        self.state = state
        let features = SlurmBatch.field("AvailableFeatures", in: line) ?? ""
        self.features = features == "(null)" ? [] : features.split(separator: ",").map(String.init)
        self.address = SlurmBatch.field("NodeAddr", in: line) ?? ""
        self.cpus = SlurmBatch.field("CPUTot", in: line).flatMap { Int($0) }
        self.memoryMB = SlurmBatch.field("RealMemory", in: line).flatMap { Int($0) }
    }
}

extension SlurmBatch {
    /// Makes a dynamic node of a group known to Slurm at an address; its VM's `slurmd -Z`
    /// (``SlurmCommand/dynamicSlurmd(_:)``) then brings it up. Idempotent: what an administrator would do by hand.
    ///
    /// - No node of that name: `scontrol create … Feature=<group feature> State=FUTURE`, then the node is looked
    ///   up again (`scontrol create` exits 0 and only logs when the name exists, as when a guest's `slurmd -Z`
    ///   registers in between; the second look catches that).
    /// - A dynamic node of that name with the group's feature (a retried registration; a guest that started
    ///   `slurmd -Z --conf "… Feature=<group feature>"` first): adopted as it is. If its `NodeAddr` differs, it
    ///   is moved to `address` (`scontrol update NodeName= NodeAddr=`): the caller says where the VM is, as for
    ///   a created node, and slurmd's own registration never changes `NodeAddr` of a node that exists. Its size,
    ///   state and `NodeHostname` are left as they are.
    /// - Any other node of that name (without the group's feature, or one from slurm.conf): `.duplicateNode`,
    ///   saying what the node has.
    ///
    /// - Parameters:
    ///   - registration: The node's name, group and size.
    ///   - address: Its `NodeAddr`.
    ///   - hostname: Its `NodeHostname` when created (default: its name).
    /// - Returns: The node as Slurm has it now.
    /// - Throws: ``SlurmError``: `.invalidMapping` (group unknown or without a feature), `.invalidArgument`,
    ///   `.duplicateNode`, or a command failure.
    @discardableResult
    public func registerNode(_ registration: NodeRegistration, address: String, hostname: String? = nil)
        async throws -> RegisteredNode
    {
        guard let mapping = groups.mapping(of: registration.group) else {
            throw SlurmError(.invalidMapping, "group '\(registration.group)' is not mapped to Slurm")
        }
        guard let feature = mapping.feature else {
            throw SlurmError(
                .invalidMapping,
                "group '\(registration.group)' has no feature: a dynamic node joins its partition only through "
                    + "a Nodeset on a feature")
        }
        let node = DynamicNode(
            name: registration.name, address: address, hostname: hostname, feature: feature,
            cpus: registration.cpus, memoryMB: registration.memoryMB, state: dynamicNodeState)
        let command = try SlurmCommand.createNode(node)  // checks every argument before Slurm is asked
        if let line = try await showNode(node.name) {
            return try await adopt(node, group: registration.group, shown: try ShownNode(parsing: line))
        }
        try await check(command)
        guard let line = try await showNode(node.name) else {
            throw SlurmError(.commandFailed, "\(command) exited 0, but Slurm does not show node '\(node.name)'")
        }
        let shown = try ShownNode(parsing: line)
        guard shown.features.contains(feature), shown.address == address else {
            // Another registration of the name came between the look-up and the create.
            return try await adopt(node, group: registration.group, shown: shown)
        }
        return RegisteredNode(
            name: node.name, group: registration.group, feature: feature, address: address,
            cpus: shown.cpus ?? node.cpus, memoryMB: shown.memoryMB ?? node.memoryMB, slurmState: shown.state,
            adopted: false)
    }

    /// Adopts an existing node as the group's, or refuses it (see ``registerNode(_:address:hostname:)``).
    func adopt(_ node: DynamicNode, group: String, shown: ShownNode) async throws -> RegisteredNode {
        guard shown.features.contains(node.feature) else {
            let has = shown.features.isEmpty ? "no features" : "features '\(shown.features.joined(separator: ","))'"
            let owner = groups.mappings.first { m in m.feature.map(shown.features.contains) ?? false }
            throw SlurmError(
                .duplicateNode,
                "Slurm already has a node named '\(node.name)' with \(has)"
                    + (owner.map { " (group '\($0.group)')" } ?? "")
                    + ", not group '\(group)''s feature '\(node.feature)'")
        }
        guard shown.isDynamic else {
            throw SlurmError(
                .duplicateNode,
                "Slurm already has a node named '\(node.name)' from its configuration (State=\(shown.state)); "
                    + "VEM registers only dynamic nodes")
        }
        var previous: String?
        if shown.address != node.address {
            try await check(try SlurmCommand.setNodeAddress(node.name, to: node.address))
            previous = shown.address
        }
        return RegisteredNode(
            name: node.name, group: group, feature: node.feature, address: node.address,
            cpus: shown.cpus ?? node.cpus, memoryMB: shown.memoryMB ?? node.memoryMB, slurmState: shown.state,
            adopted: true, previousAddress: previous)
    }
}
