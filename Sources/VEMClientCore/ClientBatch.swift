import VEMAgent
import VEMBatch
import VEMConfig
import VEMSlurm

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The batch Client's plugins: a Client with `role = batch` and `[group:…]` sections drives Slurm through the
/// `slurm.*` plugins (`slurm.demand` and `slurm.nodes` properties; `slurm.register`, `slurm.drain`,
/// `slurm.resume`, `slurm.remove`, `slurm.down` commands, run when allowed), with each group mapped by its
/// `partition` and `feature` (a group with neither is the partition of its own name). Slurm's programs read
/// `SLURM_CONF` from the agent's environment.
public enum ClientBatch {
    /// The plugins of a batch Client; empty lists for any other role or without groups.
    /// - Throws: ``ClientError`` `.configuration` when the groups' mappings clash.
    public static func slurmPlugins(
        _ configuration: ClientConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ClientError) -> (properties: [any PropertyPlugin], commands: [any CommandPlugin]) {
        guard configuration.settings.role == .batch, !configuration.groups.isEmpty else { return ([], []) }
        let mappings = configuration.groups.map { g in
            GroupMapping(
                group: g.name, partition: g.partition ?? (g.feature == nil ? g.name : nil), feature: g.feature)
        }
        let groups: SlurmGroups
        do {
            groups = try SlurmGroups(mappings)
        } catch {
            throw ClientError(.configuration, "error: the groups cannot be mapped to Slurm: \(error)")
        }
        let batch = SlurmBatch(groups: groups, executor: ProcessSlurmExecutor(slurmConf: environment["SLURM_CONF"]))
        return (
            [SlurmDemandPlugin(batch: batch), SlurmNodesPlugin(batch: batch)],
            SlurmNodeCommandPlugin.Action.allCases.map { SlurmNodeCommandPlugin($0, batch: batch) }
        )
    }
}
