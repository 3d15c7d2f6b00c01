/// One job as `squeue --json` reports it, reduced to what VEM needs.
public struct SlurmJob: Sendable, Hashable, Codable {
    /// The job id (for an array job's pending record: the array's id).
    public var id: Int
    /// The job's name.
    public var name: String
    /// Slurm's job state in upper case (`PENDING`, `RUNNING`, `COMPLETING`, `COMPLETED`, …).
    public var state: String
    /// Why the job is in its state (`Resources`, `Priority`, `JobHeldUser`, …; `None` when nothing).
    public var stateReason: String
    /// The partitions it was submitted to (several for `-p a,b` while pending).
    public var partitions: [String]
    /// The constraint expression it asks for (`--constraint`), empty when none.
    public var constraint: String
    /// The account it is charged to, empty when none.
    public var account: String
    /// CPUs it asks for (pending) or holds (running), in total.
    public var cpus: Int
    /// Memory it asks for or holds, in MiB, in total (0 when the job does not say).
    public var memoryMB: Int
    /// The nodes it runs on, expanded from Slurm's host list (empty while pending).
    public var nodes: [String]
    /// Unix time of submission.
    public var submitTime: Int
    /// How many jobs this record stands for: the tasks of a pending array record, else 1.
    public var count: Int
    /// Unix time at which a started job ends by its time limit; `nil` when it has not started or has no limit.
    public var endTime: Int?
    /// Its scheduling priority (higher starts first; 0 when Slurm does not say).
    public var priority: Int
    /// Unix time at which it started (`start_time`); `nil` when Slurm gives none. For a pending job Slurm's
    /// `start_time` is an expected start: only an active job's means anything.
    public var startTime: Int?
    /// How many times it was requeued (`restart_cnt`): a preemption kills a job at most once.
    public var restarts: Int

    /// Seconds from a job's start at or beyond which Slurm's `end_time` means "no time limit" (Slurm sets it a
    /// year after the start for an unlimited job).
    public static let unlimited = 365 * 86_400

    /// Creates a job record.
    public init(
        id: Int, name: String = "", state: String, stateReason: String = "None", partitions: [String] = [],
        constraint: String = "", account: String = "", cpus: Int = 1, memoryMB: Int = 0, nodes: [String] = [],
        submitTime: Int = 0, count: Int = 1, endTime: Int? = nil, priority: Int = 0, startTime: Int? = nil,
        restarts: Int = 0
    ) {
        self.startTime = startTime
        self.restarts = restarts
        self.endTime = endTime
        self.priority = priority
        self.id = id
        self.name = name
        self.state = state
        self.stateReason = stateReason
        self.partitions = partitions
        self.constraint = constraint
        self.account = account
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.nodes = nodes
        self.submitTime = submitTime
        self.count = count
    }

    /// True for a job that waits to start and may start (not held by a user or an administrator).
    public var isPending: Bool { state == "PENDING" && !stateReason.hasPrefix("JobHeld") }
    /// True for a job that holds resources on its nodes (running, configuring, completing, suspended).
    public var isActive: Bool { ["RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED"].contains(state) }
    /// The features named in ``constraint`` (`a&(b|c)` gives `a`, `b`, `c`; counts like `*2` are dropped).
    public var constraintFeatures: [String] {
        constraint.split { !SlurmName.isFeatureCharacter($0) }.map(String.init).filter { Int($0) == nil }
    }
}

/// One node as `sinfo --json` reports it, reduced to what VEM needs.
public struct SlurmNode: Sendable, Hashable, Codable {
    /// The node's name.
    public var name: String
    /// Slurm's base state in lower case (`idle`, `mixed`, `allocated`, `down`, `future`, …).
    public var state: String
    /// Slurm's state flags in upper case (`DRAIN`, `DYNAMIC_NORM`, `NOT_RESPONDING`, …).
    public var stateFlags: [String]
    /// CPUs it offers.
    public var cpus: Int
    /// CPUs given to jobs.
    public var allocatedCPUs: Int
    /// Memory it offers (`RealMemory`), in MiB.
    public var memoryMB: Int
    /// Memory given to jobs, in MiB.
    public var allocatedMemoryMB: Int
    /// Its features (configured and active, without duplicates, in order).
    public var features: [String]
    /// The partitions it belongs to.
    public var partitions: [String]
    /// The address slurmctld reaches it at (`NodeAddr`).
    public var address: String
    /// Why it is drained or down, empty when nothing.
    public var reason: String

    /// Creates a node record.
    public init(
        name: String, state: String, stateFlags: [String] = [], cpus: Int = 1, allocatedCPUs: Int = 0,
        memoryMB: Int = 0, allocatedMemoryMB: Int = 0, features: [String] = [], partitions: [String] = [],
        address: String = "", reason: String = ""
    ) {
        self.name = name
        self.state = state
        self.stateFlags = stateFlags
        self.cpus = cpus
        self.allocatedCPUs = allocatedCPUs
        self.memoryMB = memoryMB
        self.allocatedMemoryMB = allocatedMemoryMB
        self.features = features
        self.partitions = partitions
        self.address = address
        self.reason = reason
    }

    /// True when the node is dynamic (`slurmd -Z` or `scontrol create`).
    public var isDynamic: Bool { stateFlags.contains { $0.hasPrefix("DYNAMIC") } }
}

/// What Slurm says at one instant: every job `squeue` lists and every node `sinfo` lists.
public struct SlurmState: Sendable, Hashable, Codable {
    /// Unix time at which the state was read.
    public var time: Int
    /// Every listed job, including finished ones Slurm still remembers (`MinJobAge`).
    public var jobs: [SlurmJob]
    /// Every listed node (`FUTURE` nodes are hidden by `sinfo`).
    public var nodes: [SlurmNode]

    /// Creates a state.
    public init(time: Int, jobs: [SlurmJob], nodes: [SlurmNode]) {
        self.time = time
        self.jobs = jobs
        self.nodes = nodes
    }
}
