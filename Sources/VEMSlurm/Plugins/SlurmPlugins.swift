import VEMAgent
import VEMBatch
import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The Slurm plugins of the Client on the batch server node, as the paper has it.
///
/// | name | kind | parameters / arguments | value / output |
/// |---|---|---|---|
/// | `slurm.demand` | property | `[group, …]` (optional filter) | the `BatchSnapshot` as JSON |
/// | `slurm.nodes` | property | `[group, …]` (optional filter) | `[SlurmNodeReport]` as JSON |
/// | `slurm.register` | command | `node group cpus memory_mb [address]` | the created node as JSON |
/// | `slurm.drain` | command | `node reason…` | `drained <node>` |
/// | `slurm.resume` | command | `node` | `resumed <node>` |
/// | `slurm.remove` | command | `node` | `removed <node>` |
/// | `slurm.down` | command | `node reason…` | `down <node>` |
///
/// ```
/// [batch_demand]
/// command = slurm.demand
/// return_type = json
/// ticks = 30
/// ```
public enum SlurmPlugins {
    /// Registers the six plugins, all driving `batch`.
    /// - Throws: `AgentError` `.duplicatePlugin` when a name is taken.
    public static func register(into registry: inout PluginRegistry, batch: SlurmBatch) throws {
        try registry.registerProperty(SlurmDemandPlugin(batch: batch))
        try registry.registerProperty(SlurmNodesPlugin(batch: batch))
        for action in SlurmNodeCommandPlugin.Action.allCases {
            try registry.registerCommand(SlurmNodeCommandPlugin(action, batch: batch))
        }
    }

    /// The `AgentError` a ``SlurmError`` stands for (`timeout` stays `timeout`).
    public static func agentError(_ error: SlurmError) -> AgentError {
        let code: AgentError.Code
        switch error.code {
        case .timeout: code = .timeout
        case .malformedOutput: code = .malformedInput
        case .invalidArgument, .invalidMapping: code = .badParameters
        case .spawnFailed: code = .spawnFailed
        case .unknownNode: code = .notFound
        default: code = .programFailed
        }
        return AgentError(code, error.message, cause: error.cause)
    }

    /// Compact JSON with sorted keys.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Reads Slurm's state within the property's timeout, turning errors into `AgentError`s.
    static func read(_ batch: SlurmBatch, _ context: PropertyContext) async throws -> SlurmState {
        do {
            return try await batch.readState(timeout: context.timeout)
        } catch let error as SlurmError {
            throw agentError(error)
        }
    }
}

/// `slurm.demand`: the demand and nodes of every mapped group (or of the groups named as parameters), as a
/// `BatchSnapshot` dict (`{"groups":[{"group":…,"pendingJobs":…,"nodes":[…]}],"time":…}`), which travels as
/// it is and decodes back with `StructuredValue.decode(BatchSnapshot.self)`.
public struct SlurmDemandPlugin: PropertyPlugin {
    /// `slurm.demand`.
    public let name = "slurm.demand"
    /// True: the Slurm commands stop at the property's timeout.
    public var enforcesTimeout: Bool { true }
    let batch: SlurmBatch

    /// Creates the plugin.
    public init(batch: SlurmBatch) { self.batch = batch }

    /// Runs `squeue` and `sinfo` and returns the snapshot as a dict (decodable as `BatchSnapshot`).
    /// - Throws: `AgentError` (`timeout` when slurmctld does not answer in time, `bad_parameters` for an
    ///   unmapped group, `malformed_input`, `program_failed`).
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        for g in parameters where batch.groups.mapping(of: g) == nil {
            throw AgentError(.badParameters, "slurm.demand: group '\(g)' is not mapped to Slurm")
        }
        var snapshot = batch.groups.snapshot(of: try await SlurmPlugins.read(batch, context))
        if !parameters.isEmpty { snapshot.groups = snapshot.groups.filter { parameters.contains($0.group) } }
        return try PropertyValue(encoding: snapshot)
    }
}

/// `slurm.nodes`: every node Slurm lists (or those of the groups named as parameters) with its group and
/// state, as a list of ``SlurmNodeReport`` dicts.
public struct SlurmNodesPlugin: PropertyPlugin {
    /// `slurm.nodes`.
    public let name = "slurm.nodes"
    /// True: the Slurm commands stop at the property's timeout.
    public var enforcesTimeout: Bool { true }
    let batch: SlurmBatch

    /// Creates the plugin.
    public init(batch: SlurmBatch) { self.batch = batch }

    /// Runs `squeue` and `sinfo` and returns the nodes as a list of dicts.
    /// - Throws: `AgentError`, as ``SlurmDemandPlugin``.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        var nodes = batch.groups.nodeReports(of: try await SlurmPlugins.read(batch, context))
        if !parameters.isEmpty { nodes = nodes.filter { $0.group.map(parameters.contains) ?? false } }
        return try PropertyValue(encoding: nodes)
    }
}
