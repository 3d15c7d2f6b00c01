import VEMBatch

/// Finds the VEM group of Slurm jobs and nodes from the site's ``GroupMapping``s, and builds the
/// ``BatchSnapshot`` the Manager's planner reads. Pure.
///
/// A **job** belongs to the first mapping (in the given order) whose every set field matches: `partition`
/// is one of the job's partitions, `account` is its account, and `feature` is named in its `--constraint`
/// — except that in a mapping with a partition, a job whose constraint names no mapped feature at all
/// also matches (jobs sent to a group's Nodeset partition need not repeat the feature).
/// A **node** belongs to the first mapping whose `partition` is one of the node's partitions and whose
/// `feature` is one of the node's features (a mapping's `account` says nothing about nodes; a mapping with
/// neither partition nor feature gets no node). Jobs and nodes of no group are left out of the snapshot.
public struct SlurmGroups: Sendable, Hashable {
    /// The mappings, in matching order.
    public var mappings: [GroupMapping]

    /// Creates a matcher.
    /// - Throws: `BatchError` `.invalidMapping` when the mappings are inconsistent
    ///   (see `GroupMapping.validate(_:)`), or when a mapping selects nothing at all.
    public init(_ mappings: [GroupMapping]) throws {
        try GroupMapping.validate(mappings)
        for m in mappings where m.partition == nil && m.feature == nil && m.account == nil {
            throw BatchError(
                .invalidMapping, "group '\(m.group)' has no partition, feature or account to find it in Slurm by")
        }
        self.mappings = mappings
    }

    /// The mapping of a group, if any.
    public func mapping(of group: String) -> GroupMapping? { mappings.first { $0.group == group } }

    /// The group of a job, or nil.
    public func group(of job: SlurmJob) -> String? {
        let features = job.constraintFeatures
        let namesMappedFeature = features.contains { f in mappings.contains { $0.feature == f } }
        return mappings.first { m in
            guard m.partition.map(job.partitions.contains) ?? true, m.account.map({ $0 == job.account }) ?? true
            else { return false }
            guard let feature = m.feature else { return true }
            // In the group's own partition (a Nodeset partition), a job need not repeat the feature.
            return features.contains(feature) || (m.partition != nil && !namesMappedFeature)
        }?.group
    }

    /// The group of a node, or nil.
    public func group(of node: SlurmNode) -> String? {
        mappings.first { m in
            (m.partition != nil || m.feature != nil) && (m.partition.map(node.partitions.contains) ?? true)
                && (m.feature.map(node.features.contains) ?? true)
        }?.group
    }

    /// VEM's view of a Slurm node: its state mapped onto ``NodeState`` and its running jobs counted.
    /// - Parameters:
    ///   - node: The node.
    ///   - group: The group to report it in.
    ///   - runningJobs: How many active jobs run on it.
    ///   - busyUntil: When the last of them ends by its time limit (`nil`: unknown, or none runs).
    ///   - busySince: When the last of them started (`nil`: unknown, or none runs).
    ///   - requeuedJobs: How many of them were requeued before (`restart_cnt` above 0).
    ///   - requeuedWideJobs: Of those, how many span several nodes.
    ///   - workAtRisk: CPU-seconds a kill would lose: each job's whole width × its time run (`nil`: unknown).
    public static func batchNode(
        _ node: SlurmNode, group: String, runningJobs: Int, busyUntil: Int? = nil, busySince: Int? = nil,
        requeuedJobs: Int = 0, requeuedWideJobs: Int = 0, workAtRisk: Int? = nil
    ) -> BatchNode {
        BatchNode(
            name: node.name, group: group, cpus: node.cpus, memoryMB: node.memoryMB,
            allocatedCPUs: node.allocatedCPUs, runningJobs: runningJobs,
            state: nodeState(node, runningJobs: runningJobs), busyUntil: runningJobs > 0 ? busyUntil : nil,
            busySince: runningJobs > 0 ? busySince : nil, requeuedJobs: runningJobs > 0 ? requeuedJobs : nil,
            requeuedWideJobs: runningJobs > 0 ? requeuedWideJobs : nil, workAtRisk: runningJobs > 0 ? workAtRisk : nil)
    }

    /// Per node, the CPU-seconds a kill would lose at `time`: for each active job on it, the job's whole width
    /// (`cpus`, over all its nodes: a kill of one node requeues the whole job) × the time since it started. A
    /// node with an undated job is left out (unknown).
    static func workAtRisk(_ jobs: [SlurmJob], at time: Int) -> [String: Int] {
        var out: [String: Int] = [:]
        var undated: Set<String> = []
        for job in jobs where job.isActive {
            for n in Set(job.nodes) {
                if let start = job.startTime {
                    out[n, default: 0] += job.cpus * max(0, time - start)
                } else {
                    undated.insert(n)
                }
            }
        }
        for n in undated { out[n] = nil }
        return out
    }

    /// Per node, when the last of its active jobs started (the one a preemption would kill loses least work) and
    /// how many of them were requeued before (and of those, how many span several nodes); a node whose jobs
    /// Slurm does not date has no start.
    static func busySince(_ jobs: [SlurmJob]) -> (
        since: [String: Int], requeued: [String: Int], requeuedWide: [String: Int]
    ) {
        var since: [String: Int] = [:]
        var requeued: [String: Int] = [:]
        var requeuedWide: [String: Int] = [:]
        for job in jobs where job.isActive {
            let nodes = Set(job.nodes)
            for n in nodes {
                if let start = job.startTime { since[n] = max(since[n] ?? start, start) }
                if job.restarts > 0 { requeued[n, default: 0] += 1 }
                if job.restarts > 0, nodes.count > 1 { requeuedWide[n, default: 0] += 1 }
            }
        }
        return (since, requeued, requeuedWide)
    }

    /// Per node, when its active jobs end by their time limits: the latest end, `nil` when one of them has no
    /// known end (the reclaim order puts those last).
    static func busyUntil(_ jobs: [SlurmJob]) -> [String: Int?] {
        var out: [String: Int?] = [:]
        for job in jobs where job.isActive {
            for n in Set(job.nodes) {
                switch (out[n], job.endTime) {
                case (nil, let end): out[n] = .some(end)
                case (.some(let known?), let end?): out[n] = .some(max(known, end))
                default: out[n] = .some(nil)
                }
            }
        }
        return out
    }

    /// Whether `a` is ahead of `b` in Slurm's queue: higher priority, then earlier submission, then lower id.
    static func queueOrder(_ a: SlurmJob, _ b: SlurmJob) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        if a.submitTime != b.submitTime { return a.submitTime < b.submitTime }
        return a.id < b.id
    }

    /// Maps Slurm's base state and flags onto ``NodeState``: `down`, `error`, `future`, `unknown` or the
    /// `NOT_RESPONDING` flag give `down`; the `DRAIN` or `FAIL` flag gives `draining` while jobs or
    /// allocations remain and `drained` after; otherwise `idle`, `mixed`, `allocated` as Slurm says.
    public static func nodeState(_ node: SlurmNode, runningJobs: Int) -> NodeState {
        let flags = Set(node.stateFlags)
        if ["down", "error", "future", "unknown"].contains(node.state) || flags.contains("NOT_RESPONDING") {
            return .down
        }
        if flags.contains("DRAIN") || flags.contains("FAIL") {
            let busy =
                runningJobs > 0 || node.allocatedCPUs > 0 || node.state == "allocated"
                || node.state == "mixed" || flags.contains("COMPLETING")
            return busy ? .draining : .drained
        }
        switch node.state {
        case "allocated": return .allocated
        case "mixed": return .mixed
        case "idle": return node.allocatedCPUs > 0 ? .mixed : .idle
        default: return .down
        }
    }

    /// Builds the snapshot: one ``GroupDemand`` per mapping (also for groups with no job and no node),
    /// sorted by group name.
    /// - Parameter state: What Slurm said.
    public func snapshot(of state: SlurmState) -> BatchSnapshot {
        var demand: [String: GroupDemand] = [:]
        for m in mappings { demand[m.group] = GroupDemand(group: m.group) }
        var jobsOnNode: [String: Int] = [:]
        for job in state.jobs where job.isActive {
            for n in Set(job.nodes) { jobsOnNode[n, default: 0] += 1 }
        }
        let ends = Self.busyUntil(state.jobs)
        let starts = Self.busySince(state.jobs)
        let atRisk = Self.workAtRisk(state.jobs, at: state.time)
        var heads: [String: SlurmJob] = [:]
        for job in state.jobs {
            guard let g = group(of: job) else { continue }
            if job.isPending {
                if heads[g].map({ Self.queueOrder(job, $0) }) ?? true { heads[g] = job }
                demand[g]?.pendingJobs += job.count
                demand[g]?.pendingCPUs += job.cpus * job.count
                demand[g]?.pendingMemoryMB += job.memoryMB * job.count
                let wait = max(0, state.time - job.submitTime)
                if job.submitTime > 0, wait > demand[g]?.longestWait ?? 0 { demand[g]?.longestWait = wait }
            } else if job.isActive {
                demand[g]?.runningJobs += 1
                demand[g]?.runningCPUs += job.cpus
            }
        }
        // The first waiting job's width: a wide job needs its VMs at once (the planner reserves them).
        for (g, head) in heads { demand[g]?.headJobCPUs = head.cpus }
        for node in state.nodes {
            guard let g = group(of: node) else { continue }
            demand[g]?.nodes.append(
                Self.batchNode(
                    node, group: g, runningJobs: jobsOnNode[node.name] ?? 0, busyUntil: ends[node.name] ?? nil,
                    busySince: starts.since[node.name], requeuedJobs: starts.requeued[node.name] ?? 0,
                    requeuedWideJobs: starts.requeuedWide[node.name] ?? 0,
                    workAtRisk: atRisk[node.name]))
        }
        return BatchSnapshot(time: state.time, groups: demand.values.sorted { $0.group < $1.group })
    }

    /// Every node with its group (nil when it serves none) and VEM state: the `slurm.nodes` property.
    public func nodeReports(of state: SlurmState) -> [SlurmNodeReport] {
        var jobsOnNode: [String: Int] = [:]
        for job in state.jobs where job.isActive {
            for n in Set(job.nodes) { jobsOnNode[n, default: 0] += 1 }
        }
        return state.nodes.map { node in
            let running = jobsOnNode[node.name] ?? 0
            return SlurmNodeReport(
                name: node.name, group: group(of: node), state: Self.nodeState(node, runningJobs: running),
                slurmState: ([node.state.uppercased()] + node.stateFlags).joined(separator: "+"), cpus: node.cpus,
                allocatedCPUs: node.allocatedCPUs, memoryMB: node.memoryMB, runningJobs: running,
                address: node.address, dynamic: node.isDynamic, reason: node.reason)
        }
    }
}

/// One node as the `slurm.nodes` property reports it.
public struct SlurmNodeReport: Sendable, Hashable, Codable {
    /// The node's name.
    public var name: String
    /// The VEM group it serves, nil for none.
    public var group: String?
    /// Its state in VEM's terms.
    public var state: NodeState
    /// Slurm's own state with flags (`IDLE+DRAIN+DYNAMIC_NORM`).
    public var slurmState: String
    /// CPUs it offers.
    public var cpus: Int
    /// CPUs given to jobs.
    public var allocatedCPUs: Int
    /// Memory it offers, in MiB.
    public var memoryMB: Int
    /// Active jobs on it.
    public var runningJobs: Int
    /// Its `NodeAddr`.
    public var address: String
    /// True for a dynamic node.
    public var dynamic: Bool
    /// Why it is drained or down, empty when nothing.
    public var reason: String
}
