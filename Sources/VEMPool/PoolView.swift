import VEMBatch

/// One line per group of what a live display shows: share, the batch queue, and the group's VMs by stage.
public struct PoolView: Sendable, Hashable, Codable {
    /// One group's line.
    public struct Row: Sendable, Hashable, Codable {
        /// The group.
        public var group: String
        /// Its share, in percent of all shares.
        public var sharePercent: Double
        /// Jobs waiting.
        public var pendingJobs: Int
        /// Jobs running.
        public var runningJobs: Int
        /// VMs being created or booting (no batch node yet).
        public var booting: Int
        /// VMs taking jobs.
        public var active: Int
        /// VMs draining or being destroyed.
        public var draining: Int
    }

    /// The time of the batch snapshot.
    public var time: Int
    /// One row per configured group, in configuration order.
    public var rows: [Row]

    /// The view of a reconciler's inventory beside a batch snapshot.
    public init(reconciler: Reconciler, batch: BatchSnapshot) {
        time = batch.time
        let totalShare = reconciler.groups.reduce(0) { $0 + $1.share }
        var stages: [String: (booting: Int, active: Int, draining: Int)] = [:]
        for vm in reconciler.vms.values where !vm.gone {
            var s = stages[vm.group] ?? (0, 0, 0)
            switch vm.phase {
            case .booting: s.booting += 1
            case .active: s.active += 1
            case .draining: s.draining += 1
            }
            stages[vm.group] = s
        }
        rows = reconciler.groups.map { g in
            let d = batch[group: g.name]
            let s = stages[g.name] ?? (0, 0, 0)
            return Row(
                group: g.name, sharePercent: totalShare > 0 ? g.share / totalShare * 100 : 0,
                pendingJobs: d?.pendingJobs ?? 0, runningJobs: d?.runningJobs ?? 0, booting: s.booting,
                active: s.active, draining: s.draining)
        }
    }
}
