/// Everything the planner knows about the pool at one instant: the groups and their demand, the real hosts,
/// and the VMs on them. The integrator maps batch demand, hypervisor state and configuration onto it; the
/// planner reads nothing else. Times are seconds on the Manager's clock (any epoch, the same for every field
/// and for `now`); durations are seconds.
public struct PoolSnapshot: Sendable, Hashable, Codable {
    /// The configured groups (unique names).
    public var groups: [GroupState]
    /// The real hosts (Dom0s) of the pool (unique names).
    public var hosts: [HostState]
    /// Every VM VEM manages, on any host (unique ids).
    public var vms: [VMState]
    /// The reservation the previous plan held for a group's wide first job (``Plan/reservation``), which the
    /// planner keeps until that job starts; `nil` when none was held (or the Manager restarted).
    public var reservation: Reservation?

    /// Creates a snapshot.
    public init(
        groups: [GroupState] = [], hosts: [HostState] = [], vms: [VMState] = [], reservation: Reservation? = nil
    ) {
        self.groups = groups
        self.hosts = hosts
        self.vms = vms
        self.reservation = reservation
    }

    /// The group of that name, if configured.
    public subscript(group name: String) -> GroupState? { groups.first { $0.name == name } }
    /// The host of that name, if known.
    public subscript(host name: String) -> HostState? { hosts.first { $0.name == name } }
    /// The VM of that id, if known.
    public subscript(vm id: String) -> VMState? { vms.first { $0.id == id } }
}

/// One group: its configuration (share, bounds, VM size) and its batch demand.
public struct GroupState: Sendable, Hashable, Codable {
    /// The group's name (`[group:atlas]` → `atlas`).
    public var name: String
    /// The share weight (`share = 40`); shares are relative to the sum over all groups. Must be > 0.
    public var share: Double
    /// VMs the group keeps even without demand.
    public var minVMs: Int
    /// VMs the group never exceeds; `nil` for no limit.
    public var maxVMs: Int?
    /// vCPUs of one VM of the group (at least 1).
    public var vmCPUs: Int
    /// Memory of one VM of the group, in MiB.
    public var vmMemoryMiB: Int
    /// CPUs the group's waiting jobs ask for, in total.
    public var pendingCPUs: Int
    /// Jobs waiting to start.
    public var pendingJobs: Int
    /// CPUs the group's running jobs hold (shown in explanations; demand counts busy VMs).
    public var runningCPUs: Int
    /// Jobs running.
    public var runningJobs: Int
    /// How long (seconds) the oldest waiting job has waited; 0 when none waits.
    public var oldestPendingWait: Int
    /// CPUs the first job in the group's queue needs at once (0 when none waits or the batch system does not say).
    public var headJobCPUs: Int

    private enum CodingKeys: String, CodingKey {
        case name, share, minVMs, maxVMs, vmCPUs, vmMemoryMiB, pendingCPUs, pendingJobs, runningCPUs, runningJobs
        case oldestPendingWait, headJobCPUs
    }

    /// Decodes a record; `headJobCPUs` may be missing (a snapshot written by an earlier version): 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        share = try c.decode(Double.self, forKey: .share)
        minVMs = try c.decode(Int.self, forKey: .minVMs)
        maxVMs = try c.decodeIfPresent(Int.self, forKey: .maxVMs)
        vmCPUs = try c.decode(Int.self, forKey: .vmCPUs)
        vmMemoryMiB = try c.decode(Int.self, forKey: .vmMemoryMiB)
        pendingCPUs = try c.decode(Int.self, forKey: .pendingCPUs)
        pendingJobs = try c.decode(Int.self, forKey: .pendingJobs)
        runningCPUs = try c.decode(Int.self, forKey: .runningCPUs)
        runningJobs = try c.decode(Int.self, forKey: .runningJobs)
        oldestPendingWait = try c.decode(Int.self, forKey: .oldestPendingWait)
        headJobCPUs = try c.decodeIfPresent(Int.self, forKey: .headJobCPUs) ?? 0
    }

    /// Creates a group record.
    public init(
        name: String, share: Double, minVMs: Int = 0, maxVMs: Int? = nil, vmCPUs: Int, vmMemoryMiB: Int,
        pendingCPUs: Int = 0, pendingJobs: Int = 0, runningCPUs: Int = 0, runningJobs: Int = 0,
        oldestPendingWait: Int = 0, headJobCPUs: Int = 0
    ) {
        self.headJobCPUs = headJobCPUs
        self.name = name
        self.share = share
        self.minVMs = minVMs
        self.maxVMs = maxVMs
        self.vmCPUs = vmCPUs
        self.vmMemoryMiB = vmMemoryMiB
        self.pendingCPUs = pendingCPUs
        self.pendingJobs = pendingJobs
        self.runningCPUs = runningCPUs
        self.runningJobs = runningJobs
        self.oldestPendingWait = oldestPendingWait
    }

    /// VMs needed for the waiting jobs: `ceil(pendingCPUs / vmCPUs)`.
    public var pendingVMs: Int {
        guard pendingCPUs > 0, vmCPUs > 0 else { return 0 }
        return (pendingCPUs + vmCPUs - 1) / vmCPUs
    }
}

/// One real host (Dom0): its capacity and what is free on it.
public struct HostState: Sendable, Hashable, Codable {
    /// The host's name.
    public var name: String
    /// vCPUs the host offers to VMs in total.
    public var cpus: Int
    /// Memory the host offers to VMs in total, in MiB.
    public var memoryMiB: Int
    /// vCPUs free as the host reports them (after every VM on it, booting ones included).
    public var freeCPUs: Int
    /// Memory free as the host reports it, in MiB.
    public var freeMemoryMiB: Int
    /// Whether the host takes new VMs (false while in maintenance or being emptied).
    public var acceptingVMs: Bool

    /// Creates a host record; `free` defaults to the whole capacity.
    public init(
        name: String, cpus: Int, memoryMiB: Int, freeCPUs: Int? = nil, freeMemoryMiB: Int? = nil,
        acceptingVMs: Bool = true
    ) {
        self.name = name
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.freeCPUs = freeCPUs ?? cpus
        self.freeMemoryMiB = freeMemoryMiB ?? memoryMiB
        self.acceptingVMs = acceptingVMs
    }
}

/// One VM managed by VEM.
public struct VMState: Sendable, Hashable, Codable {
    /// Where a VM is in its life.
    public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
        /// Created, not yet registered with the batch system.
        case booting
        /// Registered and taking its group's jobs.
        case active
        /// Taking no new jobs; destroyed once idle.
        case draining
    }

    /// The VM's unique id.
    public var id: String
    /// The group the VM serves.
    public var group: String
    /// The host the VM runs on.
    public var host: String
    /// Where the VM is in its life.
    public var phase: Phase
    /// Whether a job runs on the VM.
    public var busy: Bool
    /// Since when the VM has been idle (meaningful when `busy` is false; `nil` = since it was created).
    public var idleSince: Int?
    /// When the VM was created.
    public var createdAt: Int
    /// vCPUs of the VM.
    public var cpus: Int
    /// Memory of the VM, in MiB.
    public var memoryMiB: Int
    /// The host the VM is being live-migrated to, while a migration runs (`nil` otherwise). The VM holds room
    /// on both hosts meanwhile, is left alone by the planner, and no other migration is proposed.
    public var migratingTo: String?
    /// When the jobs running on it end by their time limits, if it is busy and the batch system says (`nil`
    /// otherwise): the VM to drain first is the one that will be free first.
    public var busyUntil: Int?
    /// When the last job running on it started, if it is busy and the batch system says (`nil` otherwise): a
    /// preemption kills first the VM whose jobs have done least work.
    public var busySince: Int?
    /// Whether a job running on it spans several VMs and was requeued before (killed once by a preemption): a
    /// preemption never kills it again. Such a job restarts only once its group has gathered all its VMs again,
    /// and a kill frees far more room than a starving group needs, so killing it again thrashes it (KTH-SP2,
    /// `137d7h`, `--grace 0s`: 5,049 requeues). A one-VM job that was requeued is killed again like any other,
    /// by the work it loses: it restarts on its group's next free VM, usually room the group borrows, so
    /// protecting it moved the kills onto jobs that had run for days (LCG, `0s:7d`).
    public var runsRequeuedWideJob: Bool
    /// CPU-seconds of work a kill of this VM would lose, if it is busy and the batch system says (`nil`
    /// otherwise): each job on it counts whole (its full width × its time run), since killing one VM of a wide
    /// job requeues the job on all its VMs. Without it the planner counts the VM's vCPUs × the time since
    /// `busySince`.
    public var workAtRisk: Int?

    /// Creates a VM record.
    public init(
        id: String, group: String, host: String, phase: Phase, busy: Bool = false, idleSince: Int? = nil,
        createdAt: Int, cpus: Int, memoryMiB: Int, migratingTo: String? = nil, busyUntil: Int? = nil,
        busySince: Int? = nil, runsRequeuedWideJob: Bool = false, workAtRisk: Int? = nil
    ) {
        self.workAtRisk = workAtRisk
        self.busyUntil = busyUntil
        self.busySince = busySince
        self.runsRequeuedWideJob = runsRequeuedWideJob
        self.migratingTo = migratingTo
        self.id = id
        self.group = group
        self.host = host
        self.phase = phase
        self.busy = busy
        self.idleSince = idleSince
        self.createdAt = createdAt
        self.cpus = cpus
        self.memoryMiB = memoryMiB
    }

    /// Seconds the VM has existed at `now` (never negative).
    public func age(at now: Int) -> Int { max(0, now - createdAt) }

    /// Seconds the VM has been idle at `now`; 0 when busy.
    public func idleFor(at now: Int) -> Int { busy ? 0 : max(0, now - (idleSince ?? createdAt)) }
}

/// VMs held for one group's first waiting job, which needs more VMs at once than the group's fair target (EASY
/// backfill's reservation, across groups). The planner keeps it from step to step until that job starts (its
/// group's oldest waiting job is another one) or it no longer fits beside the other groups' guaranteed use.
public struct Reservation: Sendable, Hashable, Codable {
    /// The group whose first waiting job the VMs are held for.
    public var group: String
    /// When that job was submitted, on the snapshot's clock (`now - oldestPendingWait` when it was reserved):
    /// what tells the same job from the next one.
    public var submittedAt: Int

    /// How far apart (seconds) two readings of the job's submission may lie and still name the same job: the
    /// batch system measures the wait at its snapshot, the planner subtracts it from its own clock.
    public static let sameJobTolerance = 120

    /// Creates a reservation record.
    public init(group: String, submittedAt: Int) {
        self.group = group
        self.submittedAt = submittedAt
    }
}
