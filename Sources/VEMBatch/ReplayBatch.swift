/// A simulated batch system that replays a job trace: the embedded default of the demo and of `vem simulate`.
///
/// It is a pure **Instance**: a value with no clock, no I/O and no randomness. Time is simulated (trace
/// seconds) and moves only when asked:
/// - ``runToCompletion()`` jumps from event to event as fast as possible (simulation);
/// - ``advance(to:)`` processes every event up to a simulated instant, so a live driver can feed it
///   `origin + wall-clock elapsed × compression` (see ``simulatedTime(afterWallSeconds:)``).
///
/// **Scheduling.** Each group is its own queue on its own nodes, first-come-first-served with EASY backfill:
/// jobs start in submission order while they fit; when the first waiting job (the head) does not fit, it gets
/// a reservation at the earliest instant enough CPUs free up, assuming running jobs end at their estimate
/// (requested time, falling back to run time); a later job may start now if it fits in the free CPUs and
/// either ends (by its estimate) before that reservation or uses only CPUs the head will not need then.
/// A group's nodes are a pool of CPUs: a job may spread over several nodes (first fit, in registration
/// order), like an MPI job. Jobs really run for their trace run time.
///
/// **Order of events at one instant:** completions first, then submissions, then one scheduling pass per
/// group touched. Node operations act at the current time ``now`` and reschedule their group at once.
///
/// **Nodes.** ``register(_:)``, ``drain(node:reason:)``, ``resume(node:)`` and ``remove(node:)`` implement
/// ``BatchSystem``: a draining node takes no new job but finishes its running ones; only an idle or drained
/// empty node may be removed.
public struct ReplayBatch: BatchSystem, Sendable {
    /// How the replay runs.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The part of the trace replayed (default: all of it, starting at the first submission).
        public var window: ReplayWindow?
        /// Simulated seconds per wall-clock second for live use (default 1); unused by ``runToCompletion()``.
        public var compression: Double
        /// What happens to a job wider than its group's usable CPUs (default ``WideJobPolicy/wait``).
        public var wideJobs: WideJobPolicy

        /// Creates a configuration.
        public init(window: ReplayWindow? = nil, compression: Double = 1, wideJobs: WideJobPolicy = .wait) {
            self.window = window
            self.compression = compression
            self.wideJobs = wideJobs
        }
    }

    /// The configuration.
    public let configuration: Configuration
    /// The simulated time at which the replay started (the window's start, or the first submission).
    public let origin: Int
    /// The current simulated time (seconds, trace time).
    public internal(set) var now: Int
    /// Jobs left out when the replay was built from a trace (unreplayable records, dropped groups).
    public internal(set) var skippedJobs = 0
    /// Jobs killed and requeued because their node's VM was destroyed (``requeueJobs(onNode:)``).
    public internal(set) var requeuedJobs = 0
    /// CPU-seconds of work lost by requeued jobs.
    public internal(set) var lostCPUSeconds = 0

    // Jobs, sorted by submit time (stable), and their state.
    var jobs: [ReplayJob]
    var jobGroup: [Int32]
    var startTime: [Int]
    var endTime: [Int]
    var status: [JobRecord.Status]
    var runningIndex: [Int32]
    /// Times each job was killed and requeued (``requeueJobs(onNode:)``).
    var requeues: [Int32]
    var allocations: [Int32: [NodeShare]] = [:]
    var nextSubmission = 0
    var completions = EventHeap()

    // Groups and nodes.
    var groups: [GroupSlot] = []
    var groupIndex: [String: Int] = [:]
    var nodes: [NodeSlot] = []
    var nodeIndex: [String: Int] = [:]
    var dirty: [Int] = []

    /// Creates a replay of `jobs`.
    ///
    /// - Parameters:
    ///   - jobs: The jobs, in any order (they are sorted by submit time, keeping the given order for ties).
    ///   - configuration: The window, compression and wide-job policy.
    /// - Throws: ``BatchError`` (`invalidArgument`) for a job with fewer than 1 processor or a negative run
    ///   time, a non-positive compression or a negative window duration.
    public init(jobs: [ReplayJob], configuration: Configuration = Configuration()) throws {
        guard configuration.compression > 0 else {
            throw BatchError(.invalidArgument, "the time compression must be positive")
        }
        if let d = configuration.window?.duration, d < 0 {
            throw BatchError(.invalidArgument, "the window duration cannot be negative")
        }
        var selected = jobs
        if let window = configuration.window { selected = jobs.filter { window.contains($0.submitTime) } }
        for job in selected where job.processors < 1 || job.runTime < 0 {
            throw BatchError(
                .invalidArgument, "job \(job.jobNumber) needs \(job.processors) processors for \(job.runTime) s")
        }
        let sorted = selected.enumerated().sorted {
            $0.element.submitTime != $1.element.submitTime
                ? $0.element.submitTime < $1.element.submitTime : $0.offset < $1.offset
        }.map(\.element)
        self.configuration = configuration
        self.jobs = sorted
        origin = configuration.window?.start ?? sorted.first?.submitTime ?? 0
        now = origin
        jobGroup = []
        jobGroup.reserveCapacity(sorted.count)
        startTime = Array(repeating: -1, count: sorted.count)
        endTime = Array(repeating: -1, count: sorted.count)
        status = Array(repeating: .future, count: sorted.count)
        runningIndex = Array(repeating: -1, count: sorted.count)
        requeues = Array(repeating: 0, count: sorted.count)
        for job in sorted { jobGroup.append(Int32(groupSlot(named: job.group))) }
    }

    /// The index of a group, created on first use.
    mutating func groupSlot(named name: String) -> Int {
        if let i = groupIndex[name] { return i }
        groups.append(GroupSlot(name: name))
        groupIndex[name] = groups.count - 1
        return groups.count - 1
    }

    // MARK: - Time

    /// The time of the next event (a submission or a completion), or `nil` when nothing is left to happen.
    public var nextEventTime: Int? {
        let submit = nextSubmission < jobs.count ? jobs[nextSubmission].submitTime : nil
        let end = completions.min?.time
        switch (submit, end) {
        case (let s?, let e?): return Swift.min(s, e)
        case (let s?, nil): return s
        case (nil, let e?): return e
        case (nil, nil): return nil
        }
    }

    /// True when every job has been submitted and no job runs (waiting jobs may remain, see
    /// ``WideJobPolicy/wait``).
    public var isFinished: Bool { nextEventTime == nil }

    /// Processes every event up to and including `time`, then sets ``now`` to `time` (never backwards).
    public mutating func advance(to time: Int) {
        while let t = nextEventTime, t <= time { processInstant(t) }
        if time > now { now = time }
    }

    /// Processes every remaining event as fast as possible; ``now`` ends at the last event.
    public mutating func runToCompletion() {
        while let t = nextEventTime { processInstant(t) }
    }

    /// The simulated time reached after `seconds` of wall-clock time: ``origin`` + seconds × compression.
    public func simulatedTime(afterWallSeconds seconds: Double) -> Int {
        let delta = (seconds * configuration.compression).rounded(.down)
        guard delta.isFinite, delta < Double(Int.max / 2) else { return Int.max / 2 }
        return origin + Int(delta)
    }

    /// The wall-clock seconds (since the start of a live replay) at which simulated time `time` is reached.
    public func wallSeconds(untilSimulated time: Int) -> Double {
        Double(time - origin) / configuration.compression
    }

    private mutating func processInstant(_ t: Int) {
        now = Swift.max(now, t)
        while let e = completions.min, e.time <= t {
            _ = completions.pop()
            let i = Int(e.job)
            // A job requeued since this completion was scheduled ends at another time, or not at all.
            guard status[i] == .running, startTime[i] + jobs[i].runTime == e.time else { continue }
            finish(i)
        }
        while nextSubmission < jobs.count, jobs[nextSubmission].submitTime <= t {
            submit(nextSubmission)
            nextSubmission += 1
        }
        scheduleDirtyGroups()
    }

    // MARK: - BatchSystem

    /// The demand and nodes of every group at ``now``, sorted by group name.
    public func snapshot() -> BatchSnapshot {
        var out: [GroupDemand] = []
        out.reserveCapacity(groups.count)
        for g in groups {
            let head = g.pendingCount > 0 ? g.pending[g.head] : nil
            // When each node's jobs end by their estimates (start + requested time), when the last started, and
            // how many of them were requeued before, and the work a kill would lose (each job's whole width ×
            // its time run, on every node it spans).
            var until: [Int: Int] = [:]
            var since: [Int: Int] = [:]
            var requeued: [Int: Int] = [:]
            var requeuedWide: [Int: Int] = [:]
            var atRisk: [Int: Int] = [:]
            for r in g.running {
                let j = Int(r)
                let end = startTime[j] + jobs[j].estimatedTime
                let work = jobs[j].processors * Swift.max(0, now - startTime[j])
                for share in allocations[r] ?? [] {
                    let n = Int(share.node)
                    until[n] = Swift.max(until[n] ?? end, end)
                    since[n] = Swift.max(since[n] ?? startTime[j], startTime[j])
                    if requeues[j] > 0 { requeued[n, default: 0] += 1 }
                    if requeues[j] > 0, (allocations[r]?.count ?? 0) > 1 { requeuedWide[n, default: 0] += 1 }
                    atRisk[n, default: 0] += work
                }
            }
            out.append(
                GroupDemand(
                    group: g.name, pendingJobs: g.pendingCount, pendingCPUs: g.pendingCPUs,
                    pendingMemoryMB: g.pendingMemoryMB, runningJobs: g.running.count, runningCPUs: g.runningCPUs,
                    longestWait: head.map { now - jobs[Int($0)].submitTime } ?? 0,
                    headJobCPUs: head.map { jobs[Int($0)].processors } ?? 0,
                    nodes: g.nodes.map {
                        nodes[$0].snapshot(
                            group: g.name, busyUntil: until[$0], busySince: since[$0], requeuedJobs: requeued[$0] ?? 0,
                            requeuedWideJobs: requeuedWide[$0] ?? 0,
                            workAtRisk: atRisk[$0] ?? 0)
                    }
                ))
        }
        return BatchSnapshot(time: now, groups: out.sorted { $0.group < $1.group })
    }

    /// The record of every job, in submission order.
    public func records() -> [JobRecord] {
        jobs.indices.map { record(of: $0) }
    }

    func record(of i: Int) -> JobRecord {
        let j = jobs[i]
        return JobRecord(
            jobNumber: j.jobNumber, group: j.group, processors: j.processors, runTime: j.runTime, status: status[i],
            submit: j.submitTime, start: startTime[i] >= 0 ? startTime[i] : nil, end: endTime[i] >= 0 ? endTime[i] : nil
        )
    }
}
