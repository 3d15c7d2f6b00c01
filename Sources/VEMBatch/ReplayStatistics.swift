/// Summary of one group (or of all groups) in a replay, at the replay's current time.
public struct GroupStatistics: Sendable, Hashable, Codable {
    /// The group's name (`*` for the total over all groups).
    public var group: String
    /// Jobs submitted so far (rejected ones included).
    public var submitted: Int
    /// Jobs started (running or finished).
    public var started: Int
    /// Jobs finished.
    public var finished: Int
    /// Jobs rejected at submission (``WideJobPolicy/reject``).
    public var rejected: Int
    /// Jobs still waiting.
    public var pending: Int
    /// Mean wait (start − submit) of the started jobs, seconds; 0 when none started.
    public var meanWait: Double
    /// 95th percentile of the started jobs' waits (nearest rank: the ⌈0.95·n⌉-th smallest), seconds.
    public var p95Wait: Int
    /// Longest wait of a started job, seconds.
    public var maxWait: Int
    /// CPU time used: processors × time run, for finished jobs and for the elapsed part of running ones.
    public var cpuSecondsUsed: Int
    /// CPU time offered: each node's CPUs × the time it was registered (until removal or now).
    public var cpuSecondsOffered: Int

    /// `cpuSecondsUsed / cpuSecondsOffered` (0…1), or 0 when nothing was offered.
    public var utilisation: Double {
        cpuSecondsOffered > 0 ? Double(cpuSecondsUsed) / Double(cpuSecondsOffered) : 0
    }
}

/// Summary statistics of a replay: per group, and the total.
public struct ReplayStatistics: Sendable, Hashable, Codable {
    /// The simulated time they were taken at.
    public var time: Int
    /// One entry per group, sorted by name.
    public var groups: [GroupStatistics]
    /// All groups together (`group` is `*`).
    public var total: GroupStatistics

    /// The entry of one group.
    public subscript(group name: String) -> GroupStatistics? { groups.first { $0.group == name } }
}

extension ReplayBatch {
    /// Summary statistics at ``now``.
    public func statistics() -> ReplayStatistics {
        var waits = Array(repeating: [Int](), count: groups.count)
        var acc = Array(
            repeating: GroupStatistics(
                group: "", submitted: 0, started: 0, finished: 0, rejected: 0, pending: 0, meanWait: 0, p95Wait: 0,
                maxWait: 0, cpuSecondsUsed: 0, cpuSecondsOffered: 0
            ), count: groups.count)
        for i in jobs.indices {
            let g = Int(jobGroup[i])
            switch status[i] {
            case .future: continue
            case .rejected: acc[g].rejected += 1
            case .pending: acc[g].pending += 1
            case .running:
                acc[g].started += 1
                acc[g].cpuSecondsUsed += jobs[i].processors * (now - startTime[i])
                waits[g].append(startTime[i] - jobs[i].submitTime)
            case .finished:
                acc[g].started += 1
                acc[g].finished += 1
                acc[g].cpuSecondsUsed += jobs[i].processors * (endTime[i] - startTime[i])
                waits[g].append(startTime[i] - jobs[i].submitTime)
            }
            acc[g].submitted += 1
        }
        for node in nodes {
            acc[node.group].cpuSecondsOffered += node.cpus * Swift.max(0, (node.removedAt ?? now) - node.registeredAt)
        }
        var total = GroupStatistics(
            group: "*", submitted: 0, started: 0, finished: 0, rejected: 0, pending: 0, meanWait: 0, p95Wait: 0,
            maxWait: 0, cpuSecondsUsed: 0, cpuSecondsOffered: 0
        )
        for g in groups.indices {
            acc[g].group = groups[g].name
            Self.summarise(&acc[g], waits: &waits[g])
            total.submitted += acc[g].submitted
            total.started += acc[g].started
            total.finished += acc[g].finished
            total.rejected += acc[g].rejected
            total.pending += acc[g].pending
            total.cpuSecondsUsed += acc[g].cpuSecondsUsed
            total.cpuSecondsOffered += acc[g].cpuSecondsOffered
        }
        var all = waits.flatMap { $0 }
        Self.summarise(&total, waits: &all)
        return ReplayStatistics(time: now, groups: acc.sorted { $0.group < $1.group }, total: total)
    }

    private static func summarise(_ s: inout GroupStatistics, waits: inout [Int]) {
        guard !waits.isEmpty else { return }
        waits.sort()
        s.meanWait = Double(waits.reduce(0, +)) / Double(waits.count)
        let rank = Int((0.95 * Double(waits.count)).rounded(.up))
        s.p95Wait = waits[Swift.max(0, Swift.min(waits.count, rank) - 1)]
        s.maxWait = waits[waits.count - 1]
    }
}
