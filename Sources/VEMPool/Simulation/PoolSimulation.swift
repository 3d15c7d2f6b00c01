import VEMBatch
import VEMPolicy

/// The closed loop of `vem simulate` and of the demo's scheduler, fully simulated: a ``VEMBatch/ReplayBatch``
/// as the batch system, ``SimulatedHosts`` as the hypervisor (a VM's Client joins `bootDelay` seconds after its
/// creation; a live migration takes `migrationDelay`), the ``VEMPolicy/Planner`` every `tick` seconds and the
/// ``Reconciler`` turning its plans into operations. A pure **Instance**: simulated time only, no I/O.
public struct PoolSimulation: Sendable {
    /// How the simulated pool is built and run.
    public struct Configuration: Sendable, Hashable {
        /// Number of real hosts (default 8).
        public var hosts: Int
        /// vCPUs per host (default 8).
        public var cpusPerHost: Int
        /// MiB per host (default: 2048 per vCPU).
        public var memoryPerHostMiB: Int
        /// Seconds from a VM's creation until its Client joins (default 60).
        public var bootDelay: Int
        /// Seconds a live migration takes (default 30).
        public var migrationDelay: Int
        /// Seconds between two planner steps (default 60).
        public var tick: Int
        /// The planner's knobs (default: the planner's defaults, except that preemption is off —
        /// ``preemptionOff``; see README's "Preemption, measured" for why).
        public var policy: PolicyConfiguration
        /// The reconciler's knobs.
        public var reconciler: Reconciler.Configuration

        /// Creates a configuration with the documented defaults.
        public init(
            hosts: Int = 8, cpusPerHost: Int = 8, memoryPerHostMiB: Int? = nil, bootDelay: Int = 60,
            migrationDelay: Int = 30, tick: Int = 60,
            policy: PolicyConfiguration = PolicyConfiguration(starvationGrace: preemptionOff),
            reconciler: Reconciler.Configuration = Reconciler.Configuration()
        ) {
            self.hosts = hosts
            self.cpusPerHost = cpusPerHost
            self.memoryPerHostMiB = memoryPerHostMiB ?? cpusPerHost * 2048
            self.bootDelay = bootDelay
            self.migrationDelay = migrationDelay
            self.tick = tick
            self.policy = policy
            self.reconciler = reconciler
        }
    }

    /// A starvation grace time no simulation reaches (ten years): preemption off, the default of `vem simulate`
    /// (`--grace D` turns it on: the replay batch requeues the jobs of a VM destroyed under them); graceful
    /// reclaim (drain, the job finishes) stays.
    public static let preemptionOff = 10 * 365 * 86_400

    /// Something that happens later in simulated time.
    enum Event: Sendable, Hashable {
        /// The VM booted and its Client joined.
        case joined(vm: String)
        /// A migration finished (operation id).
        case migrated(operation: Int)
    }

    /// The configuration.
    public let configuration: Configuration
    /// The batch system.
    public private(set) var batch: ReplayBatch
    /// The hypervisor's hosts.
    public private(set) var hosts: SimulatedHosts
    /// The reconciler (inventory, decisions, counters).
    public private(set) var reconciler: Reconciler
    /// The planner.
    public let planner: Planner
    /// The last plan made.
    public private(set) var lastPlan: Plan?
    /// Planner steps run.
    public private(set) var steps = 0
    /// The most VMs alive at once, per group.
    public private(set) var peakVMs: [String: Int] = [:]
    /// The most VMs alive at once over the whole pool.
    public private(set) var peakTotalVMs = 0

    /// vCPU-seconds held by VMs (booting ones included) since the start.
    public private(set) var vmCPUSeconds = 0
    /// VMs destroyed while their node still ran jobs (the Reconciler marks a busy VM's node down before its
    /// destroy, so only a failed down leaves one).
    public private(set) var destroysUnderJobs = 0
    var accountedUntil: Int

    var events: [(time: Int, seq: Int, event: Event)] = []
    var eventSeq = 0
    var nextTick: Int

    /// Creates a simulation of `jobs` (each tagged with one of `groups`' names) replayed over `window`.
    /// - Throws: ``PoolError`` for bad groups or a bad configuration; the replay batch's ``VEMBatch/BatchError``
    ///   is reported as `invalid_group` with its message.
    public init(
        jobs: [ReplayJob], groups: [PoolGroup], window: ReplayWindow? = nil, configuration: Configuration = .init()
    ) throws(PoolError) {
        guard configuration.hosts >= 1, configuration.cpusPerHost >= 1, configuration.tick >= 1,
            configuration.bootDelay >= 0, configuration.migrationDelay >= 0
        else {
            throw PoolError(.invalidGroup, "hosts, CPUs per host and tick must be at least 1; delays at least 0")
        }
        do {
            batch = try ReplayBatch(jobs: jobs, configuration: .init(window: window, wideJobs: .wait))
        } catch {
            throw PoolError(.invalidGroup, "\(error)")
        }
        self.configuration = configuration
        reconciler = try Reconciler(groups: groups, configuration: configuration.reconciler)
        hosts = SimulatedHosts(
            count: configuration.hosts, cpus: configuration.cpusPerHost, memoryMiB: configuration.memoryPerHostMiB)
        planner = Planner(configuration: configuration.policy)
        nextTick = batch.origin
        accountedUntil = batch.origin
        do { try planner.configuration.validate() } catch { throw PoolError(.planner, error.message) }
    }

    /// The current simulated time.
    public var now: Int { batch.now }

    /// True when every job has been submitted, none runs, and none waits that the pool could ever run (a job
    /// wider than ``capacityCPUs`` allows never runs).
    public var isFinished: Bool {
        guard batch.isFinished else { return false }
        guard batch.snapshot().groups.contains(where: { $0.pendingJobs > 0 }) else { return true }
        let capacity = capacityCPUs
        return batch.records().allSatisfy { r in
            r.status != .pending || r.processors > capacity[r.group, default: Int.max]
        }
    }

    /// Per group, the most CPUs the pool can ever give it: every host filled with its VMs.
    public var capacityCPUs: [String: Int] {
        var out: [String: Int] = [:]
        for g in reconciler.groups {
            let byCPU = configuration.cpusPerHost / max(1, g.vmCPUs)
            let byMemory = g.vmMemoryMiB > 0 ? configuration.memoryPerHostMiB / g.vmMemoryMiB : byCPU
            out[g.name] = configuration.hosts * min(byCPU, byMemory) * g.vmCPUs
        }
        return out
    }

    /// Runs every event and planner step up to `time` (simulated seconds), then moves the batch's clock there.
    /// - Throws: ``PoolError`` (`planner`) if the planner refuses a snapshot (a bug, not an input error).
    public mutating func advance(to time: Int) throws(PoolError) {
        while true {
            let eventTime = events.first?.time
            let t = min(nextTick, eventTime ?? Int.max)
            guard t <= time else { break }
            account(until: t)
            batch.advance(to: t)
            if let e = eventTime, e == t {
                let due = events.prefix { $0.time == t }
                events.removeFirst(due.count)
                for item in due { handle(item.event, at: t) }
            } else {
                try step(at: t)
                nextTick = t + configuration.tick
            }
        }
        account(until: time)
        batch.advance(to: time)
    }

    /// Adds the vCPUs VMs hold from the last accounted instant to `t`.
    mutating func account(until t: Int) {
        guard t > accountedUntil else { return }
        vmCPUSeconds += hosts.hosts.reduce(0) { $0 + $1.usedCPUs } * (t - accountedUntil)
        accountedUntil = t
    }

    /// Runs until every job has finished (or `limit` simulated seconds after the start, whichever comes first).
    /// - Returns: whether every job finished.
    public mutating func runToCompletion(limit: Int) throws(PoolError) -> Bool {
        let end = batch.origin + limit
        while !isFinished, now < end {
            try advance(to: min(end, now + configuration.tick))
        }
        return isFinished
    }

    // MARK: - One step

    mutating func step(at t: Int) throws(PoolError) {
        // Nobody reads the reconciler's changed VMs here (the Manager's PoolController does): forget them.
        reconciler.clearChangedVMs()
        let result = try reconciler.rebalance(batch: batch.snapshot(), hosts: hosts.states, now: t, planner: planner)
        lastPlan = result.plan
        steps += 1
        execute(result.operations, at: t)
        var alive: [String: Int] = [:]
        for vm in reconciler.vms.values where !vm.gone { alive[vm.group, default: 0] += 1 }
        for (g, n) in alive where n > peakVMs[g, default: 0] { peakVMs[g] = n }
        peakTotalVMs = max(peakTotalVMs, alive.values.reduce(0, +))
    }

    mutating func handle(_ event: Event, at t: Int) {
        switch event {
        case .joined(let vm):
            reconciler.onVMBooted(vm, now: t)
            execute(reconciler.onClientJoined(vm, now: t), at: t)
        case .migrated(let id):
            guard let op = reconciler.operationsInFlight.first(where: { $0.id == id }),
                case .migrateVM(let from, _) = op.kind, let vm = reconciler.vms[op.vm]
            else { return }
            hosts.release(cpus: vm.cpus, memoryMiB: vm.memoryMiB, on: from)
            execute(reconciler.onSucceeded(id, now: t), at: t)
        }
    }

    /// Carries out operations (and those that follow from their outcomes) at `t`.
    mutating func execute(_ operations: [PoolOperation], at t: Int) {
        var queue = operations
        while !queue.isEmpty {
            let op = queue.removeFirst()
            switch perform(op, at: t) {
            case .success: queue += reconciler.onSucceeded(op.id, now: t)
            case .failure(let message): queue += reconciler.onFailed(op.id, message: message, now: t)
            case .later: break
            }
        }
    }

    enum Outcome {
        case success
        case failure(String)
        case later
    }

    mutating func perform(_ op: PoolOperation, at t: Int) -> Outcome {
        do {
            switch op.kind {
            case .createVM(_, let host, _, let cpus, let memory):
                guard hosts.hold(cpus: cpus, memoryMiB: memory, on: host) else {
                    return .failure("no room on \(host)")
                }
                schedule(.joined(vm: op.vm), at: t + configuration.bootDelay)
                return .success
            case .registerNode(let registration):
                try batch.register(registration)
            case .drainNode(let reason):
                try batch.drain(node: op.vm, reason: reason)
            case .removeNode:
                try batch.remove(node: op.vm)
            case .downNode(let reason):
                // Slurm's `State=DOWN`: the jobs are requeued at once and the node takes none (a preemption's
                // down comes before its destroy).
                try batch.down(node: op.vm, reason: reason)
            case .destroyVM(let host):
                guard let vm = reconciler.vms[op.vm] else { return .failure("unknown VM") }
                switch batch.state(of: op.vm) {
                case .draining?, .mixed?, .allocated?:
                    // The VM dies under its jobs (a preemption whose down failed): the batch system requeues them
                    // (their work is lost) once its daemon stops answering, here at once.
                    destroysUnderJobs += 1
                    try batch.requeueJobs(onNode: op.vm)
                case .idle?:
                    // A dead VM's node takes no job (Slurm marks it down once its daemon stops answering). The
                    // Reconciler downs a busy VM's node before its destroy and removes an idle one's first, so
                    // only a node it never saw (a guest's own, a failed down) is still open here; left taking
                    // jobs, the next one started on the dead VM and ran there.
                    try batch.drain(node: op.vm, reason: "its VM is destroyed")
                case .drained?, .down?, nil:
                    break
                }
                hosts.release(cpus: vm.cpus, memoryMiB: vm.memoryMiB, on: host)
                if let to = vm.migratingTo { hosts.release(cpus: vm.cpus, memoryMiB: vm.memoryMiB, on: to) }
                events.removeAll { $0.event == .joined(vm: op.vm) }
            case .migrateVM(_, let to):
                guard let vm = reconciler.vms[op.vm], hosts.hold(cpus: vm.cpus, memoryMiB: vm.memoryMiB, on: to) else {
                    return .failure("no room on \(to)")
                }
                schedule(.migrated(operation: op.id), at: t + configuration.migrationDelay)
                return .later
            }
            return .success
        } catch {
            return .failure("\(error)")
        }
    }

    mutating func schedule(_ event: Event, at time: Int) {
        eventSeq += 1
        let item = (time: time, seq: eventSeq, event: event)
        let position = events.firstIndex { ($0.time, $0.seq) > (time, eventSeq) } ?? events.count
        events.insert(item, at: position)
    }
}
