/// The Slurm programs VEM runs.
public enum SlurmProgram: String, Sendable, Hashable, CaseIterable {
    /// `squeue`: the job queue.
    case squeue
    /// `sinfo`: the nodes.
    case sinfo
    /// `scontrol`: node creation, update and deletion.
    case scontrol
    /// `sbatch`: job submission (tests and demos only; VEM never submits jobs).
    case sbatch
    /// `slurmd`: the node daemon (run in a VM, or by the tests, for a dynamic node).
    case slurmd
}

/// One Slurm command as an argv array: a program and its arguments, never a shell line.
public struct SlurmCommand: Sendable, Hashable, CustomStringConvertible {
    /// The program.
    public var program: SlurmProgram
    /// Its arguments, one word each.
    public var arguments: [String]

    /// Creates a command.
    public init(_ program: SlurmProgram, _ arguments: [String]) {
        self.program = program
        self.arguments = arguments
    }

    /// The command as an administrator would type it (for messages only; words with spaces are quoted).
    public var description: String {
        ([program.rawValue] + arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
    }
}

/// The state a node created by `scontrol create` starts in: Slurm 22.05 accepts only these two.
public enum DynamicNodeState: String, Sendable, Hashable, Codable {
    /// `State=FUTURE`: hidden until its `slurmd -Z` registers, then `IDLE+DYNAMIC_NORM`.
    case future = "FUTURE"
    /// `State=CLOUD`: powered down until Slurm powers it up (for sites using Slurm's power saving).
    case cloud = "CLOUD"
}

/// A dynamic node to create: everything `scontrol create` and the node's `slurmd -Z --conf` need.
public struct DynamicNode: Sendable, Hashable, Codable {
    /// The node's name (`NodeName=`; also the name `slurmd -N` registers under).
    public var name: String
    /// The address slurmctld reaches the node at (`NodeAddr=`). Always set: without it Slurm keeps
    /// `NodeAddr=<name>` and jobs hang in COMPLETING when the name does not resolve.
    public var address: String
    /// The node's host name (`NodeHostname=`); the node's name when nil.
    public var hostname: String?
    /// The feature that puts the node into its group's Nodeset and partition (`Feature=`).
    public var feature: String
    /// CPUs (`CPUs=`, at least 1).
    public var cpus: Int
    /// Memory in MiB (`RealMemory=`, at least 1).
    public var memoryMB: Int
    /// The state it is created in.
    public var state: DynamicNodeState

    /// Creates a node description.
    public init(
        name: String, address: String, hostname: String? = nil, feature: String, cpus: Int, memoryMB: Int,
        state: DynamicNodeState = .future
    ) {
        self.name = name
        self.address = address
        self.hostname = hostname
        self.feature = feature
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.state = state
    }

    /// Checks every field.
    /// - Throws: ``SlurmError`` `.invalidArgument`.
    public func validate() throws {
        try SlurmName.checkNodeName(name)
        try SlurmName.checkAddress(address)
        if let hostname { try SlurmName.checkAddress(hostname) }
        try SlurmName.checkFeature(feature)
        guard cpus >= 1, cpus <= 1_000_000 else {
            throw SlurmError(.invalidArgument, "node '\(name)' needs at least 1 CPU (got \(cpus))")
        }
        guard memoryMB >= 1, memoryMB <= 1_000_000_000 else {
            throw SlurmError(.invalidArgument, "node '\(name)' needs its memory in MiB, at least 1 (got \(memoryMB))")
        }
    }

    /// The `--conf` text its `slurmd -Z` must register with (the same size and feature).
    public var slurmdConf: String { "CPUs=\(cpus) RealMemory=\(memoryMB) Feature=\(feature)" }
}

extension SlurmCommand {
    /// `squeue --json --all`: every job of every partition.
    public static let queue = SlurmCommand(.squeue, ["--json", "--all"])

    /// `sinfo --json --all`: every node of every partition.
    public static let nodes = SlurmCommand(.sinfo, ["--json", "--all"])

    /// `scontrol create NodeName=… NodeAddr=… NodeHostname=… CPUs=… RealMemory=… Feature=… State=FUTURE`.
    /// - Throws: ``SlurmError`` `.invalidArgument` when a field is invalid.
    public static func createNode(_ node: DynamicNode) throws -> SlurmCommand {
        try node.validate()
        return SlurmCommand(
            .scontrol,
            [
                "create", "NodeName=\(node.name)", "NodeAddr=\(node.address)",
                "NodeHostname=\(node.hostname ?? node.name)", "CPUs=\(node.cpus)", "RealMemory=\(node.memoryMB)",
                "Feature=\(node.feature)", "State=\(node.state.rawValue)",
            ])
    }

    /// `scontrol -o --future show node NAME`: one line about the node, FUTURE nodes included.
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name.
    public static func showNode(_ name: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        return SlurmCommand(.scontrol, ["-o", "--future", "show", "node", name])
    }

    /// `scontrol update NodeName=NAME State=DRAIN Reason=…`.
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name or reason.
    public static func drainNode(_ name: String, reason: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        try SlurmName.checkReason(reason)
        return SlurmCommand(.scontrol, ["update", "NodeName=\(name)", "State=DRAIN", "Reason=\(reason)"])
    }

    /// `scontrol update NodeName=NAME State=DOWN Reason=…`: the node takes no job, and slurmctld ends the jobs on
    /// it (requeued when they may be).
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name or reason.
    public static func downNode(_ name: String, reason: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        try SlurmName.checkReason(reason)
        return SlurmCommand(.scontrol, ["update", "NodeName=\(name)", "State=DOWN", "Reason=\(reason)"])
    }

    /// `scontrol update NodeName=NAME NodeAddr=ADDRESS`: moves an existing node to another address (Slurm
    /// 22.05 accepts it for a dynamic node, `FUTURE` or registered; a later `slurmd -Z` registration keeps it).
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name or address.
    public static func setNodeAddress(_ name: String, to address: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        try SlurmName.checkAddress(address)
        return SlurmCommand(.scontrol, ["update", "NodeName=\(name)", "NodeAddr=\(address)"])
    }

    /// `scontrol update NodeName=NAME State=RESUME`.
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name.
    public static func resumeNode(_ name: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        return SlurmCommand(.scontrol, ["update", "NodeName=\(name)", "State=RESUME"])
    }

    /// `scontrol delete NodeName=NAME`.
    /// - Throws: ``SlurmError`` `.invalidArgument` for a bad name.
    public static func deleteNode(_ name: String) throws -> SlurmCommand {
        try SlurmName.checkNodeName(name)
        return SlurmCommand(.scontrol, ["delete", "NodeName=\(name)"])
    }

    /// `slurmd -D -Z -N NAME --conf "CPUs=… RealMemory=… Feature=…"`: the dynamic node's daemon, in the
    /// foreground, as the VM (or a test) starts it, after ``createNode(_:)`` or before it (the node is then
    /// created by the daemon's registration and adopted by ``SlurmBatch/registerNode(_:address:hostname:)``).
    /// - Throws: ``SlurmError`` `.invalidArgument` when a field is invalid.
    public static func dynamicSlurmd(_ node: DynamicNode) throws -> SlurmCommand {
        try node.validate()
        return SlurmCommand(.slurmd, ["-D", "-Z", "-N", node.name, "--conf", node.slurmdConf])
    }
}
