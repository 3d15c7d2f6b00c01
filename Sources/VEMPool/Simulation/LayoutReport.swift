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
    /// Jobs killed by a preemption and requeued (a job killed twice counts twice; zero without preemption).
    public var requeuedJobs = 0
    /// CPU-seconds of work those jobs lost.
    public var lostCPUSeconds = 0

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
        requeuedJobs = batch.requeuedJobs
        lostCPUSeconds = batch.lostCPUSeconds
    }

    /// The line of one group.
    public subscript(group name: String) -> Line? { groups.first { $0.group == name } }
}

/// The paper's promise for one group in one window: while a group's demand stays within its share, it must not
/// wait longer in the pool than in its own static partition, plus the pool's lead time (a planner step and a
/// boot) and the bound the policy puts on taking borrowed room back (``allowance(tick:bootDelay:grace:)``).
///
/// Checked on the group's jobs *within share*: those submitted when the group's jobs not yet finished, the job
/// itself included, needed no more CPUs than its partition has — in its partition (so the partition starts it at
/// once) and in the layout checked (so that layout owes it a start: the group's demand there is within its
/// share; jobs of its own that were preempted and requeued, or that it queued beyond its share, are demand too).
/// Their mean wait in the layout must not exceed their mean wait in the partition plus the allowance.
public struct GuaranteeCheck: Sendable, Hashable, Codable {
    /// The group.
    public var group: String
    /// Its jobs within share.
    public var jobs: Int
    /// Their mean wait in the pool, seconds.
    public var poolMeanWait: Double
    /// Their mean wait in the group's own partition, seconds.
    public var staticMeanWait: Double
    /// The allowance, seconds: the lead time (planner step and boot) plus the reclaim bound.
    public var allowance: Int

    /// Creates a check.
    public init(group: String, jobs: Int, poolMeanWait: Double, staticMeanWait: Double, allowance: Int) {
        self.group = group
        self.jobs = jobs
        self.poolMeanWait = poolMeanWait
        self.staticMeanWait = staticMeanWait
        self.allowance = allowance
    }

    /// Whether the group had jobs within its share (else nothing was promised).
    public var withinShare: Bool { jobs > 0 }

    /// True when nothing was promised or the pool kept the promise.
    public var holds: Bool { jobs == 0 || poolMeanWait <= staticMeanWait + Double(allowance) }

    /// What the pool may add to a within-share job's wait in its partition: a planner step and a boot (the lead
    /// time of a VM made on free room) plus the reclaim bound. With preemption (`grace` below
    /// ``PoolSimulation/preemptionOff``), borrowed room comes back at most `grace` after the group's oldest job
    /// was sent, plus two planner steps (drain, then destroy); without it, reclaim waits for the borrowers' jobs
    /// to end — no bound is promised, so none is allowed.
    public static func allowance(tick: Int, bootDelay: Int, grace: Int) -> Int {
        tick + bootDelay + (grace < PoolSimulation.preemptionOff ? grace + 2 * tick : 0)
    }

    /// Which of `outcomes` (one layout's) were within their group's share of `partition` CPUs in that layout: at
    /// its submission, the CPUs of its group's jobs submitted so far (itself included) and not finished there fit
    /// the partition. The answer is in the order of `outcomes`; they need not be in submission order.
    public static func withinShare(_ outcomes: [JobOutcome], partition: [String: Int]) -> [Bool] {
        var open: [String: [(end: Int?, cpus: Int)]] = [:]
        var result = Array(repeating: false, count: outcomes.count)
        let order = outcomes.indices.sorted { (outcomes[$0].submit, $0) < (outcomes[$1].submit, $1) }
        for k in order {
            let o = outcomes[k]
            var list = open[o.group] ?? []
            list.removeAll { $0.end.map { $0 <= o.submit } ?? false }
            list.append((o.end, o.processors))
            open[o.group] = list
            result[k] = list.reduce(0) { $0 + $1.cpus } <= (partition[o.group] ?? 0)
        }
        return result
    }

    /// The check of every group in `groups`, from the same jobs' outcomes in the static layout and in the layout
    /// checked (`pool`; matched by group, submission, width and run time, so their orders need not agree).
    public static func checks(
        groups: [String], fixed: [JobOutcome], pool: [JobOutcome], partition: [String: Int], horizon: Int,
        allowance: Int
    ) -> [GuaranteeCheck] {
        let inPartition = withinShare(fixed, partition: partition)
        let inPool = withinShare(pool, partition: partition)
        var poolIndex: [Comparison.JobKey: [Int]] = [:]
        for (j, o) in pool.enumerated().reversed() { poolIndex[Comparison.JobKey(o), default: []].append(j) }
        var sums: [String: (jobs: Int, pool: Int, fixed: Int)] = [:]
        for (k, o) in fixed.enumerated() {
            let key = Comparison.JobKey(o)
            guard let j = poolIndex[key]?.popLast() else { continue }
            guard inPartition[k], inPool[j] else { continue }
            sums[o.group, default: (0, 0, 0)].jobs += 1
            sums[o.group, default: (0, 0, 0)].pool += pool[j].wait(at: horizon)
            sums[o.group, default: (0, 0, 0)].fixed += o.wait(at: horizon)
        }
        return groups.map { g in
            let s = sums[g] ?? (0, 0, 0)
            let n = Double(max(1, s.jobs))
            return GuaranteeCheck(
                group: g, jobs: s.jobs, poolMeanWait: Double(s.pool) / n, staticMeanWait: Double(s.fixed) / n,
                allowance: allowance)
        }
    }
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
    /// The same check on the ideal machine, with no allowance (it has no VM to make and takes nothing back):
    /// whether fair share on one machine without preemption keeps the promise — the calibration of the check.
    public var idealGuarantee: [GuaranteeCheck]
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
        idealGuarantee = []
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
        dynamic.requeuedJobs = simulation.batch.requeuedJobs
        dynamic.lostCPUSeconds = simulation.batch.lostCPUSeconds
        let fixedOutcomes = fixed.records().filter { $0.status != .future }.map {
            JobOutcome($0, capacity: partitionCPUs[$0.group])
        }
        staticLayout = LayoutReport(
            layout: "static partitions", outcomes: fixedOutcomes, groups: groups.map(\.name), origin: origin,
            totalCPUs: totalCPUs, horizon: horizon, peakVMs: partition,
            vmCPUSeconds: fixed.statistics().total.cpuSecondsOffered)
        self.ideal = LayoutReport(
            layout: "ideal", outcomes: idealOutcomes, groups: groups.map(\.name), origin: origin,
            totalCPUs: totalCPUs, horizon: horizon)
        poolLeftBehind = Self.leftBehind(pool: poolOutcomes, ideal: idealOutcomes, horizon: horizon)
        dynamicFinished = finished
        self.horizon = horizon
        guarantee = GuaranteeCheck.checks(
            groups: groups.map(\.name), fixed: fixedOutcomes, pool: poolOutcomes, partition: partitionCPUs,
            horizon: horizon,
            allowance: GuaranteeCheck.allowance(
                tick: configuration.tick, bootDelay: configuration.bootDelay,
                grace: configuration.policy.starvationGrace))
        idealGuarantee = GuaranteeCheck.checks(
            groups: groups.map(\.name), fixed: fixedOutcomes, pool: idealOutcomes, partition: partitionCPUs,
            horizon: horizon, allowance: 0)
    }

    /// Whether the guarantee holds for every group.
    public var guaranteeHolds: Bool { guarantee.allSatisfy(\.holds) }
}
