import VEMBatch
import VEMPolicy

/// The paper's fig. 1: the same hosts split once and for all, one partition per group, sized by share.
public enum StaticLayout {
    /// Nodes of each group's VM size (`vmCPUs`), as many as its share of `totalCPUs` holds (largest remainder,
    /// ties by name; a group gets at least one node while nodes are left), named `<group>-NN`: the planner's
    /// guarantee, ``VEMPolicy/FairShare/apportion(_:capacityCPUs:capacityMemoryMiB:)``, by construction.
    public static func nodes(groups: [PoolGroup], totalCPUs: Int) -> [NodeRegistration] {
        let claims = groups.map {
            FairShare.Claim(
                name: $0.name, share: $0.share, vmCPUs: max(1, $0.vmCPUs), vmMemoryMiB: $0.vmMemoryMiB, demandVMs: 0)
        }
        let counts = FairShare.apportion(claims, capacityCPUs: totalCPUs)
        return zip(groups, counts).flatMap { g, n in
            ReplayBatch.staticPartitions(
                groups: [g.name], nodesPerGroup: n, cpusPerNode: g.vmCPUs, memoryMB: g.vmMemoryMiB)
        }
    }

    /// Replays `jobs` over `window` on the static layout of `totalCPUs`, to completion.
    /// - Throws: ``PoolError`` (`invalid_group`) when the replay refuses the jobs or the nodes.
    public static func run(
        jobs: [ReplayJob], groups: [PoolGroup], window: ReplayWindow?, totalCPUs: Int
    ) throws(PoolError) -> ReplayBatch {
        do {
            var batch = try ReplayBatch(jobs: jobs, configuration: .init(window: window, wideJobs: .wait))
            try batch.register(nodes(groups: groups, totalCPUs: totalCPUs))
            batch.runToCompletion()
            return batch
        } catch {
            throw PoolError(.invalidGroup, "\(error)")
        }
    }
}
