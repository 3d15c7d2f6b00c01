import VEMBatch

/// What one layout (the dynamic pool, static partitions, or the ideal machine) did with a trace window, measured
/// at a horizon: per group waits and the pool's utilisation. Every job submitted in the window counts; one not
/// started by the horizon counts with its wait so far, and is reported (`pending`, and `neverRuns` when the
/// layout can never run it).
public struct LayoutReport: Sendable, Hashable, Codable {
    /// One group's line.
    public struct Line: Sendable, Hashable, Codable {
        /// The group (`*` for all).
        public var group: String
        /// Jobs submitted.
        public var jobs: Int
        /// Jobs finished by the horizon.
        public var finished: Int
        /// Jobs not started by the horizon (counted in the waits with their wait so far).
        public var pending: Int
        /// Of those, jobs the layout can never run (wider than what it can ever give the group).
        public var neverRuns: Int
        /// Mean wait, seconds.
        public var meanWait: Double
        /// 95th percentile wait, seconds.
        public var p95Wait: Int
        /// Longest wait, seconds.
        public var maxWait: Int
        /// Mean bounded slowdown (threshold 10 s).
        public var meanBoundedSlowdown: Double
        /// CPU-seconds the group's jobs used up to the horizon.
        public var cpuSecondsUsed: Int
        /// Nodes or VMs at most (static: the partition's size).
        public var peakNodes: Int

        /// The line of `outcomes` at `horizon`.
        public init(group: String, outcomes: [JobOutcome], horizon: Int, peakNodes: Int) {
            let w = WaitSummary(outcomes, horizon: horizon)
            self.group = group
            jobs = w.jobs
            finished = w.finished
            pending = w.waiting
            neverRuns = w.neverRuns
            meanWait = w.meanWait
            p95Wait = w.p95Wait
            maxWait = w.maxWait
            meanBoundedSlowdown = w.meanBoundedSlowdown
            cpuSecondsUsed = outcomes.reduce(0) { $0 + $1.cpuSeconds(at: horizon) }
            self.peakNodes = peakNodes
        }
    }

    /// `dynamic pool`, `static partitions` or `ideal`.
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

    /// Builds the report of jobs' outcomes at `horizon`, for a replay that started at `origin`.
    /// - Parameters:
    ///   - groups: the groups to list even when they have no job.
    ///   - vmCPUSeconds: vCPU-seconds held by nodes or VMs (default: the whole pool, all the time).
    public init(
        layout: String, outcomes: [JobOutcome], groups: [String] = [], origin: Int, totalCPUs: Int, horizon: Int,
        counters: PoolCounters = PoolCounters(), peakVMs: [String: Int] = [:], peakTotal: Int? = nil,
        vmCPUSeconds: Int? = nil
    ) {
        var byGroup = Dictionary(grouping: outcomes, by: \.group)
        for g in groups where byGroup[g] == nil { byGroup[g] = [] }
        self.layout = layout
        self.groups = byGroup.keys.sorted().map {
            Line(group: $0, outcomes: byGroup[$0] ?? [], horizon: horizon, peakNodes: peakVMs[$0] ?? 0)
        }
        total = Line(
            group: "*", outcomes: outcomes, horizon: horizon, peakNodes: peakTotal ?? peakVMs.values.reduce(0, +))
        self.totalCPUs = totalCPUs
        elapsed = max(0, horizon - origin)
        let offered = Double(totalCPUs) * Double(elapsed)
        utilisation = offered > 0 ? Double(total.cpuSecondsUsed) / offered : 0
        self.vmCPUSeconds = vmCPUSeconds ?? totalCPUs * elapsed
        occupancy = offered > 0 ? Double(self.vmCPUSeconds) / offered : 0
        self.counters = counters
    }

    /// Builds the report of a replay advanced to `horizon`.
    /// - Parameter capacity: per group, the most CPUs the layout can ever give it (a waiting job wider than that
    ///   never runs); a group not listed has no known limit.
    public init(
        layout: String, batch: ReplayBatch, totalCPUs: Int, horizon: Int, counters: PoolCounters = PoolCounters(),
        peakVMs: [String: Int], peakTotal: Int? = nil, vmCPUSeconds: Int? = nil, capacity: [String: Int] = [:]
    ) {
        let outcomes = batch.records().filter { $0.status != .future }.map {
            JobOutcome($0, capacity: capacity[$0.group])
        }
        self.init(
            layout: layout, outcomes: outcomes, groups: Array(capacity.keys), origin: batch.origin,
            totalCPUs: totalCPUs, horizon: horizon, counters: counters, peakVMs: peakVMs, peakTotal: peakTotal,
            vmCPUSeconds: vmCPUSeconds ?? batch.statistics().total.cpuSecondsOffered)
    }

    /// The line of one group.
    public subscript(group name: String) -> Line? { groups.first { $0.group == name } }
}

/// The paper's promise for one group in one window: a group whose demand stays within its share — in its own
/// static partition none of its jobs waits — must not wait longer in the pool than in that partition, plus one
/// VM's lead time (a planner step and a boot).
public struct GuaranteeCheck: Sendable, Hashable, Codable {
    /// The group.
    public var group: String
    /// Whether its demand stayed within its share (no job of it waited in its own partition).
    public var withinShare: Bool
    /// Its mean wait in the pool, seconds.
    public var poolMeanWait: Double
    /// Its mean wait in its own partition, seconds.
    public var staticMeanWait: Double
    /// The allowance, seconds: the planner's tick plus the VM boot delay.
    public var allowance: Int

    /// Creates a check.
    public init(group: String, withinShare: Bool, poolMeanWait: Double, staticMeanWait: Double, allowance: Int) {
        self.group = group
        self.withinShare = withinShare
        self.poolMeanWait = poolMeanWait
        self.staticMeanWait = staticMeanWait
        self.allowance = allowance
    }

    /// True when nothing was promised (demand beyond the share) or the pool kept the promise.
    public var holds: Bool { !withinShare || poolMeanWait <= staticMeanWait + Double(allowance) }
}

/// The dynamic pool, static partitions and the ideal machine on the same window, side by side, measured at one
/// horizon.
public struct Comparison: Sendable, Hashable, Codable {
    /// The dynamic pool.
    public var dynamic: LayoutReport
    /// Static partitions sized by share.
    public var staticLayout: LayoutReport
    /// One machine of all CPUs, no VM cost, fair-share order with EASY backfill (`nil` when not run).
    public var ideal: LayoutReport?
    /// Whether the dynamic run finished every job it can ever run before its limit.
    public var dynamicFinished: Bool
    /// The common horizon (trace seconds): every layout is measured there.
    public var horizon: Int
    /// The guarantee check of every group (empty when not run).
    public var guarantee: [GuaranteeCheck]
    /// Jobs the ideal machine finished by the horizon that the pool had not started then (0 when not run).
    public var poolLeftBehind: Int

    /// Puts two reports side by side (no ideal, no guarantee check).
    public init(dynamic: LayoutReport, staticLayout: LayoutReport, dynamicFinished: Bool) {
        self.dynamic = dynamic
        self.staticLayout = staticLayout
        self.dynamicFinished = dynamicFinished
        ideal = nil
        horizon = dynamic.elapsed
        guarantee = []
        poolLeftBehind = 0
    }

    /// Runs the three layouts on `jobs` over `window` and measures them at one horizon: the latest of the
    /// window's end and the instants each layout has run every job it can ever run (the pool stops `limit`
    /// seconds after the window's start at the latest).
    /// - Throws: ``PoolError`` for bad groups or configuration.
    public init(
        jobs: [ReplayJob], groups: [PoolGroup], window: ReplayWindow?, configuration: PoolSimulation.Configuration,
        limit: Int
    ) throws(PoolError) {
        var simulation = try PoolSimulation(jobs: jobs, groups: groups, window: window, configuration: configuration)
        let finished = try simulation.runToCompletion(limit: limit)
        let totalCPUs = simulation.hosts.totalCPUs
        var fixed = try StaticLayout.run(jobs: jobs, groups: groups, window: window, totalCPUs: totalCPUs)
        var ideal = IdealLayout(jobs: jobs, groups: groups, window: window, cpus: totalCPUs)
        ideal.runToCompletion()
        let origin = simulation.batch.origin
        let windowEnd = window?.duration.map { origin + $0 } ?? origin
        let horizon = max(simulation.now, fixed.now, ideal.now, windowEnd)
        try simulation.advance(to: horizon)
        fixed.advance(to: horizon)
        ideal.advance(to: horizon)
        var partition: [String: Int] = [:]
        var partitionCPUs: [String: Int] = [:]
        for n in StaticLayout.nodes(groups: groups, totalCPUs: totalCPUs) {
            partition[n.group, default: 0] += 1
            partitionCPUs[n.group, default: 0] += n.cpus
        }
        for g in groups where partitionCPUs[g.name] == nil { partitionCPUs[g.name] = 0 }
        let capacity = simulation.capacityCPUs
        let poolOutcomes = simulation.batch.records().filter { $0.status != .future }.map {
            JobOutcome($0, capacity: capacity[$0.group])
        }
        let idealOutcomes = ideal.outcomes
        dynamic = LayoutReport(
            layout: "dynamic pool", outcomes: poolOutcomes, groups: groups.map(\.name), origin: origin,
            totalCPUs: totalCPUs, horizon: horizon, counters: simulation.reconciler.counters,
            peakVMs: simulation.peakVMs, peakTotal: simulation.peakTotalVMs, vmCPUSeconds: simulation.vmCPUSeconds)
        staticLayout = LayoutReport(
            layout: "static partitions", batch: fixed, totalCPUs: totalCPUs, horizon: horizon, peakVMs: partition,
            capacity: partitionCPUs)
        self.ideal = LayoutReport(
            layout: "ideal", outcomes: idealOutcomes, groups: groups.map(\.name), origin: origin,
            totalCPUs: totalCPUs, horizon: horizon)
        poolLeftBehind = Self.leftBehind(pool: poolOutcomes, ideal: idealOutcomes, horizon: horizon)
        dynamicFinished = finished
        self.horizon = horizon
        let allowance = configuration.tick + configuration.bootDelay
        let dynamicLines = dynamic.groups
        let staticLines = staticLayout.groups
        guarantee = groups.map { g in
            let d = dynamicLines.first { $0.group == g.name }
            let s = staticLines.first { $0.group == g.name }
            return GuaranteeCheck(
                group: g.name, withinShare: (s?.jobs ?? 0) > 0 && s?.maxWait == 0 && s?.pending == 0,
                poolMeanWait: d?.meanWait ?? 0, staticMeanWait: s?.meanWait ?? 0, allowance: allowance)
        }
    }

    /// Whether the guarantee holds for every group.
    public var guaranteeHolds: Bool { guarantee.allSatisfy(\.holds) }
}
