import VEMBatch

/// The paper's fig. 1: the same hosts split once and for all, one partition per group, sized by share.
public enum StaticLayout {
    /// Nodes of each group's VM size (`vmCPUs`), as many as its share of `totalCPUs` holds (largest remainder,
    /// ties to the earlier group; a group gets at least one node while nodes are left), named `<group>-NN`.
    public static func nodes(groups: [PoolGroup], totalCPUs: Int) -> [NodeRegistration] {
        let totalShare = groups.reduce(0) { $0 + $1.share }
        guard totalShare > 0, totalCPUs > 0 else { return [] }
        // Apportion CPUs by share, in whole nodes.
        var counts = groups.map { g in Int((Double(totalCPUs) * g.share / totalShare) / Double(g.vmCPUs)) }
        var used = zip(groups, counts).reduce(0) { $0 + $1.0.vmCPUs * $1.1 }
        for i in groups.indices where counts[i] == 0 && used + groups[i].vmCPUs <= totalCPUs {
            counts[i] = 1
            used += groups[i].vmCPUs
        }
        let remainders = groups.enumerated().map { i, g in
            (i, Double(totalCPUs) * g.share / totalShare / Double(g.vmCPUs) - Double(counts[i]))
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (i, remainder) in remainders where remainder > 0 && used + groups[i].vmCPUs <= totalCPUs {
            counts[i] += 1
            used += groups[i].vmCPUs
        }
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
