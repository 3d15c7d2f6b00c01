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
        do { map = try TraceGroupMap(jobs: trace.jobs, rule: rule) } catch { throw PoolError(.invalidGroup, "\(error)") }
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
