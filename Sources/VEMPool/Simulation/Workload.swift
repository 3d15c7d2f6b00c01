import VEMBatch

/// The jobs and groups of a simulation, from an SWF trace: the trace's groups mapped onto VEM groups by a
/// ``VEMBatch/TraceGroupRule``, each VEM group's share its fraction of the trace's CPU time (in percent,
/// at least 1), and optionally one job in `sample` kept (by position in the trace) to scale a large trace
/// down to a small pool.
public struct Workload: Sendable, Hashable {
    /// The jobs to replay, tagged with their VEM group.
    public var jobs: [ReplayJob]
    /// The VEM groups.
    public var groups: [PoolGroup]
    /// The mapping applied.
    public var map: TraceGroupMap
    /// Records left out: unreplayable, dropped groups, or not sampled.
    public var skipped: Int

    /// Builds a workload.
    /// - Parameters:
    ///   - trace: the trace.
    ///   - rule: how trace groups become VEM groups.
    ///   - sample: keep one job in `sample` (1: all).
    ///   - vmCPUs: vCPUs of every group's VMs.
    ///   - vmMemoryMiB: memory of every group's VMs.
    /// - Throws: ``PoolError`` (`invalid_group`) for a bad rule or a sample below 1.
    public init(
        trace: SWFTrace, rule: TraceGroupRule, sample: Int = 1, vmCPUs: Int = 1, vmMemoryMiB: Int = 2048
    ) throws(PoolError) {
        guard sample >= 1 else { throw PoolError(.invalidGroup, "the sample must keep one job in 1 or more") }
        let map: TraceGroupMap
        do { map = try TraceGroupMap(jobs: trace.jobs, rule: rule) } catch {
            throw PoolError(.invalidGroup, "\(error)")
        }
        var jobs: [ReplayJob] = []
        var skipped = 0
        for (i, record) in trace.jobs.enumerated() {
            guard i % sample == 0, let group = map.group(of: record), let job = ReplayJob(record, group: group) else {
                skipped += 1
                continue
            }
            jobs.append(job)
        }
        self.jobs = jobs
        self.map = map
        self.skipped = skipped
        groups = map.groups.map { g in
            PoolGroup(
                name: g.name, share: max(1, (g.share * 100).rounded()), vmCPUs: vmCPUs, vmMemoryMiB: vmMemoryMiB)
        }
    }
}

extension Workload {
    /// A small deterministic workload for when no trace is at hand: three groups (`atlas` 50 %, `cms` 30 %,
    /// `lhcb` 20 %) that burst in turn — each sends `jobsPerBurst` single-CPU jobs of 30 to 90 minutes over one
    /// hour, atlas from 0 h, cms from 2 h, lhcb from 4 h, then all three together from 6 h.
    public static func synthetic(jobsPerBurst: Int = 40, vmCPUs: Int = 1, vmMemoryMiB: Int = 2048) -> [ReplayJob] {
        var state: UInt64 = 0x5EED
        func next(_ range: ClosedRange<Int>) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
        var jobs: [ReplayJob] = []
        let bursts: [(String, Int)] = [
            ("atlas", 0), ("cms", 7200), ("lhcb", 14_400), ("atlas", 21_600), ("cms", 21_600), ("lhcb", 21_600),
        ]
        for (group, start) in bursts {
            for _ in 0..<jobsPerBurst {
                jobs.append(
                    ReplayJob(
                        jobNumber: jobs.count + 1, group: group, submitTime: start + next(0...3599),
                        runTime: next(1800...5400)))
            }
        }
        return jobs
    }

    /// The groups of ``synthetic(jobsPerBurst:vmCPUs:vmMemoryMiB:)``.
    public static func syntheticGroups(vmCPUs: Int = 1, vmMemoryMiB: Int = 2048) -> [PoolGroup] {
        [("atlas", 50.0), ("cms", 30), ("lhcb", 20)].map {
            PoolGroup(name: $0.0, share: $0.1, vmCPUs: vmCPUs, vmMemoryMiB: vmMemoryMiB)
        }
    }
}
