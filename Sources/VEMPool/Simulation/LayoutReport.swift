import VEMBatch

/// What one layout (the dynamic pool, or static partitions) did with a trace window: per group waits and the
/// pool's utilisation. Built by ``init(layout:batch:totalCPUs:horizon:counters:peakVMs:peakTotal:vmCPUSeconds:)``.
public struct LayoutReport: Sendable, Hashable, Codable {
    /// One group's line.
    public struct Line: Sendable, Hashable, Codable {
        /// The group (`*` for all).
        public var group: String
        /// Jobs submitted.
        public var jobs: Int
        /// Jobs finished.
        public var finished: Int
        /// Jobs still waiting at the end.
        public var pending: Int
        /// Mean wait of the started jobs, seconds.
        public var meanWait: Double
        /// 95th percentile wait, seconds.
        public var p95Wait: Int
        /// Longest wait, seconds.
        public var maxWait: Int
        /// CPU-seconds the group's jobs used.
        public var cpuSecondsUsed: Int
        /// Nodes or VMs at most (static: the partition's size).
        public var peakNodes: Int
    }

    /// `dynamic pool` or `static partitions`.
    public var layout: String
    /// Per group, sorted by name.
    public var groups: [Line]
    /// All groups.
    public var total: Line
    /// vCPUs of the pool.
    public var totalCPUs: Int
    /// Seconds from the window's start to the horizon.
    public var elapsed: Int
    /// Jobs' CPU time over the pool's CPU time up to the horizon (0…1).
    public var utilisation: Double
    /// vCPU-seconds held by VMs or nodes up to the horizon (booting VMs included; static: every node, always).
    public var vmCPUSeconds: Int
    /// `vmCPUSeconds` over the pool's CPU time (0…1): how much of the pool the layout kept in VMs.
    public var occupancy: Double
    /// VMs created, destroyed, migrated, drained; failed operations; busy VMs destroyed (zero for static).
    public var counters: PoolCounters

    /// Builds the report of a replay advanced to `horizon`.
    public init(
        layout: String, batch: ReplayBatch, totalCPUs: Int, horizon: Int, counters: PoolCounters = PoolCounters(),
        peakVMs: [String: Int], peakTotal: Int? = nil, vmCPUSeconds: Int? = nil
    ) {
        let stats = batch.statistics()
        func line(_ s: GroupStatistics, peak: Int) -> Line {
            Line(
                group: s.group, jobs: s.submitted, finished: s.finished, pending: s.pending, meanWait: s.meanWait,
                p95Wait: s.p95Wait, maxWait: s.maxWait, cpuSecondsUsed: s.cpuSecondsUsed, peakNodes: peak)
        }
        self.layout = layout
        groups = stats.groups.map { line($0, peak: peakVMs[$0.group] ?? 0) }
        total = line(stats.total, peak: peakTotal ?? peakVMs.values.reduce(0, +))
        self.totalCPUs = totalCPUs
        elapsed = max(0, horizon - batch.origin)
        let offered = Double(totalCPUs) * Double(elapsed)
        utilisation = offered > 0 ? Double(stats.total.cpuSecondsUsed) / offered : 0
        self.vmCPUSeconds = vmCPUSeconds ?? stats.total.cpuSecondsOffered
        occupancy = offered > 0 ? Double(self.vmCPUSeconds) / offered : 0
        self.counters = counters
    }

    /// The line of one group.
    public subscript(group name: String) -> Line? { groups.first { $0.group == name } }
}

/// The dynamic pool and the static layout on the same window, side by side.
public struct Comparison: Sendable, Hashable, Codable {
    /// The dynamic pool.
    public var dynamic: LayoutReport
    /// Static partitions sized by share.
    public var staticLayout: LayoutReport
    /// Whether the dynamic run finished every job before its limit.
    public var dynamicFinished: Bool

    /// Puts two reports side by side.
    public init(dynamic: LayoutReport, staticLayout: LayoutReport, dynamicFinished: Bool) {
        self.dynamic = dynamic
        self.staticLayout = staticLayout
        self.dynamicFinished = dynamicFinished
    }

    /// Runs both layouts on `jobs` over `window` and compares them at a common horizon (the later of the two
    /// ends), so utilisation is measured over the same stretch of time.
    /// - Parameter limit: simulated seconds after the window's start the dynamic run may take at most.
    /// - Throws: ``PoolError`` for bad groups or configuration.
    public init(
        jobs: [ReplayJob], groups: [PoolGroup], window: ReplayWindow?, configuration: PoolSimulation.Configuration,
        limit: Int
    ) throws(PoolError) {
        var simulation = try PoolSimulation(jobs: jobs, groups: groups, window: window, configuration: configuration)
        let finished = try simulation.runToCompletion(limit: limit)
        let totalCPUs = simulation.hosts.totalCPUs
        var fixed = try StaticLayout.run(jobs: jobs, groups: groups, window: window, totalCPUs: totalCPUs)
        let horizon = max(simulation.now, fixed.now)
        try simulation.advance(to: horizon)
        fixed.advance(to: horizon)
        var partition: [String: Int] = [:]
        for n in StaticLayout.nodes(groups: groups, totalCPUs: totalCPUs) { partition[n.group, default: 0] += 1 }
        dynamic = LayoutReport(
            layout: "dynamic pool", batch: simulation.batch, totalCPUs: totalCPUs, horizon: horizon,
            counters: simulation.reconciler.counters, peakVMs: simulation.peakVMs,
            peakTotal: simulation.peakTotalVMs, vmCPUSeconds: simulation.vmCPUSeconds)
        staticLayout = LayoutReport(
            layout: "static partitions", batch: fixed, totalCPUs: totalCPUs, horizon: horizon, peakVMs: partition)
        dynamicFinished = finished
    }
}
