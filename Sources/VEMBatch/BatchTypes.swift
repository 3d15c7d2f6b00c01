/// The state of one node (a real host or a group's VM) as the batch system sees it.
///
/// The names follow Slurm's `sinfo` states, which the replay batch reproduces:
/// `idle` (no job), `mixed` (some CPUs busy), `allocated` (all CPUs busy), `draining` (takes no new
/// job, still runs some), `drained` (takes no new job, runs none: safe to remove), `down` (unreachable).
public enum NodeState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepts jobs and runs none.
    case idle
    /// Accepts jobs; some but not all of its CPUs are busy.
    case mixed
    /// Accepts jobs; all its CPUs are busy.
    case allocated
    /// Takes no new job but still runs at least one.
    case draining
    /// Takes no new job and runs none; it may be removed.
    case drained
    /// Not responding; its jobs are lost or held by the batch system.
    case down

    /// True when the node may be given new jobs.
    public var acceptsJobs: Bool { self == .idle || self == .mixed || self == .allocated }
}

/// A node serving one group, as reported in a ``BatchSnapshot``.
public struct BatchNode: Sendable, Hashable, Codable {
    /// The node's name in the batch system (the VM's host name).
    public var name: String
    /// The VEM group the node serves.
    public var group: String
    /// CPUs the node offers.
    public var cpus: Int
    /// Memory the node offers, in MiB.
    public var memoryMB: Int
    /// CPUs currently given to jobs.
    public var allocatedCPUs: Int
    /// Jobs currently running (wholly or partly) on the node.
    public var runningJobs: Int
    /// The node's state.
    public var state: NodeState
    /// When the last job running on it ends by its time limit (the batch system's estimate), if it runs any and
    /// the batch system says; `nil` otherwise.
    public var busyUntil: Int?
    /// When the last of the jobs running on it started, if it runs any and the batch system says; `nil`
    /// otherwise. A preemption that must kill a job kills the one that has done least work.
    public var busySince: Int?
    /// How many of the jobs running on it were requeued before (killed once by a preemption), if the batch
    /// system says; `nil` otherwise. A preemption kills a job at most once.
    public var requeuedJobs: Int?
    /// Of those, how many span several nodes (`nil` when the batch system does not say). A preemption kills such
    /// a job at most once; a requeued job of one node may be killed again.
    public var requeuedWideJobs: Int?
    /// CPU-seconds of work a kill of this node would lose, if it runs any job and the batch system says (`nil`
    /// otherwise): for each job running on it, wholly or partly, the job's whole width × the time since it
    /// started — killing one node of a wide job kills (and requeues) the job on all its nodes.
    public var workAtRisk: Int?

    /// Creates a node description.
    public init(
        name: String, group: String, cpus: Int, memoryMB: Int,
        allocatedCPUs: Int = 0, runningJobs: Int = 0, state: NodeState = .idle, busyUntil: Int? = nil,
        busySince: Int? = nil, requeuedJobs: Int? = nil, requeuedWideJobs: Int? = nil, workAtRisk: Int? = nil
    ) {
        self.requeuedWideJobs = requeuedWideJobs
        self.workAtRisk = workAtRisk
        self.busyUntil = busyUntil
        self.busySince = busySince
        self.requeuedJobs = requeuedJobs
        self.name = name
        self.group = group
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.allocatedCPUs = allocatedCPUs
        self.runningJobs = runningJobs
        self.state = state
    }
}

/// What a group asks of the batch system and what serves it: the input of the Manager's planner.
public struct GroupDemand: Sendable, Hashable, Codable {
    /// The VEM group.
    public var group: String
    /// Jobs waiting to start.
    public var pendingJobs: Int
    /// CPUs the waiting jobs ask for, in total.
    public var pendingCPUs: Int
    /// Memory the waiting jobs ask for, in total, in MiB (0 when the jobs do not say).
    public var pendingMemoryMB: Int
    /// Jobs running.
    public var runningJobs: Int
    /// CPUs the running jobs hold.
    public var runningCPUs: Int
    /// How long (seconds) the oldest waiting job has waited; 0 when none waits.
    public var longestWait: Int
    /// CPUs the first job in the group's queue asks for (0 when none waits): the group cannot start it before it
    /// has that many CPUs free at once.
    public var headJobCPUs: Int
    /// The nodes serving the group, in registration order.
    public var nodes: [BatchNode]

    /// Creates a demand record.
    public init(
        group: String, pendingJobs: Int = 0, pendingCPUs: Int = 0, pendingMemoryMB: Int = 0,
        runningJobs: Int = 0, runningCPUs: Int = 0, longestWait: Int = 0, headJobCPUs: Int = 0,
        nodes: [BatchNode] = []
    ) {
        self.headJobCPUs = headJobCPUs
        self.group = group
        self.pendingJobs = pendingJobs
        self.pendingCPUs = pendingCPUs
        self.pendingMemoryMB = pendingMemoryMB
        self.runningJobs = runningJobs
        self.runningCPUs = runningCPUs
        self.longestWait = longestWait
        self.nodes = nodes
    }

    private enum CodingKeys: String, CodingKey {
        case group, pendingJobs, pendingCPUs, pendingMemoryMB, runningJobs, runningCPUs, longestWait, headJobCPUs
        case nodes
    }

    /// Decodes a record; `headJobCPUs` may be missing (a batch Client of an earlier version): 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        group = try c.decode(String.self, forKey: .group)
        pendingJobs = try c.decode(Int.self, forKey: .pendingJobs)
        pendingCPUs = try c.decode(Int.self, forKey: .pendingCPUs)
        pendingMemoryMB = try c.decode(Int.self, forKey: .pendingMemoryMB)
        runningJobs = try c.decode(Int.self, forKey: .runningJobs)
        runningCPUs = try c.decode(Int.self, forKey: .runningCPUs)
        longestWait = try c.decode(Int.self, forKey: .longestWait)
        headJobCPUs = try c.decodeIfPresent(Int.self, forKey: .headJobCPUs) ?? 0
        nodes = try c.decode([BatchNode].self, forKey: .nodes)
    }

    /// CPUs of the group's nodes that accept jobs (not draining, drained or down).
    public var usableCPUs: Int { nodes.filter { $0.state.acceptsJobs }.reduce(0) { $0 + $1.cpus } }
}

/// The batch system's view of every group at one instant.
public struct BatchSnapshot: Sendable, Hashable, Codable {
    /// The batch system's time in seconds (simulated time for the replay batch, Unix time for a real one).
    public var time: Int
    /// One record per group, sorted by group name.
    public var groups: [GroupDemand]

    /// Creates a snapshot.
    public init(time: Int, groups: [GroupDemand]) {
        self.time = time
        self.groups = groups
    }

    /// The record of one group, if the batch system knows it.
    public subscript(group name: String) -> GroupDemand? { groups.first { $0.group == name } }
}

/// A new node to make known to the batch system: a freshly booted VM of a group.
public struct NodeRegistration: Sendable, Hashable, Codable {
    /// The node's name (unique among registered nodes).
    public var name: String
    /// The VEM group whose jobs the node takes.
    public var group: String
    /// CPUs the node offers (at least 1).
    public var cpus: Int
    /// Memory the node offers, in MiB.
    public var memoryMB: Int

    /// Creates a registration.
    public init(name: String, group: String, cpus: Int, memoryMB: Int = 0) {
        self.name = name
        self.group = group
        self.cpus = cpus
        self.memoryMB = memoryMB
    }
}
