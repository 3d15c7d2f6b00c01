import VEMBatch

/// The ideal layout: one machine of all the pool's CPUs, no VM cost, and one queue for all groups, ordered by
/// fair share (as a batch system's fair-share priority would order it) with EASY backfill. What the groups would
/// get if they could share one software environment; the pool aims at it.
///
/// **Order.** The group using least of its share now (running CPUs ÷ share: fair share without memory of past
/// use, the fairness the planner's water-filling aims at; ties: the earlier first waiting job) goes first;
/// within a group, first come first served. Jobs start in that order while the first in line fits. When it does not, it
/// gets a reservation at the earliest instant enough CPUs free up (running jobs ending at their estimates) and
/// later jobs, taken group by group in the same order, start if they fit now and either end before the
/// reservation or use only CPUs the reserved job will not need then. A job wider than the machine never runs.
///
/// A pure **Instance**: simulated time only. Events at one instant: completions, then submissions, then one
/// scheduling pass.
public struct IdealLayout: Sendable {
    /// CPUs of the machine.
    public let cpus: Int
    /// The simulated time at which the replay started (the window's start, or the first submission).
    public let origin: Int
    /// The current simulated time.
    public private(set) var now: Int

    let jobs: [ReplayJob]
    let jobGroup: [Int]
    let groupNames: [String]
    let shares: [Double]
    var start: [Int]
    var end: [Int]
    var never: [Bool]
    var queues: [[Int]]
    var heads: [Int]
    var runningCPUs: [Int]
    var running: [Int] = []
    var free: Int
    var nextSubmission = 0
    var completions: [(time: Int, job: Int)] = []

    /// Creates the machine for `jobs` submitted in `window`, with each group's share (a group missing from
    /// `groups` gets share 1).
    public init(jobs: [ReplayJob], groups: [PoolGroup], window: ReplayWindow?, cpus: Int) {
        let selected = window.map { w in jobs.filter { w.contains($0.submitTime) } } ?? jobs
        let sorted = selected.enumerated().sorted {
            $0.element.submitTime != $1.element.submitTime
                ? $0.element.submitTime < $1.element.submitTime : $0.offset < $1.offset
        }.map(\.element)
        var names = groups.map(\.name)
        for job in sorted where !names.contains(job.group) { names.append(job.group) }
        names.sort()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let share = Dictionary(groups.map { ($0.name, $0.share) }, uniquingKeysWith: { a, _ in a })
        self.cpus = max(0, cpus)
        self.jobs = sorted
        jobGroup = sorted.map { index[$0.group] ?? 0 }
        groupNames = names
        shares = names.map { max(1e-9, share[$0] ?? 1) }
        start = Array(repeating: -1, count: sorted.count)
        end = Array(repeating: -1, count: sorted.count)
        never = Array(repeating: false, count: sorted.count)
        queues = Array(repeating: [], count: names.count)
        heads = Array(repeating: 0, count: names.count)
        runningCPUs = Array(repeating: 0, count: names.count)
        free = self.cpus
        origin = window?.start ?? sorted.first?.submitTime ?? 0
        now = origin
    }

    /// The time of the next submission or completion, or `nil` when nothing is left to happen.
    public var nextEventTime: Int? {
        let s = nextSubmission < jobs.count ? jobs[nextSubmission].submitTime : nil
        let e = completions.first?.time
        switch (s, e) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// Processes every event up to `time`, then sets ``now`` to it (never backwards).
    public mutating func advance(to time: Int) {
        while let t = nextEventTime, t <= time { process(t) }
        now = max(now, time)
    }

    /// Processes every event; ``now`` ends at the last one (jobs that never run are left waiting).
    public mutating func runToCompletion() {
        while let t = nextEventTime { process(t) }
    }

    /// Every job of the window, as served up to ``now``.
    public var outcomes: [JobOutcome] {
        jobs.indices.map { i in
            JobOutcome(
                group: jobs[i].group, processors: jobs[i].processors, submit: jobs[i].submitTime,
                runTime: jobs[i].runTime, start: start[i] >= 0 && start[i] <= now ? start[i] : nil,
                end: end[i] >= 0 && end[i] <= now ? end[i] : nil, neverRuns: never[i])
        }
    }

    // MARK: - Events

    mutating func process(_ t: Int) {
        now = max(now, t)
        while let c = completions.first, c.time <= t {
            popCompletion()
            let g = jobGroup[c.job]
            runningCPUs[g] -= jobs[c.job].processors
            free += jobs[c.job].processors
            if let k = running.firstIndex(of: c.job) { running.swapAt(k, running.count - 1) }
            running.removeLast()
        }
        while nextSubmission < jobs.count, jobs[nextSubmission].submitTime <= t {
            let i = nextSubmission
            nextSubmission += 1
            if jobs[i].processors > cpus {
                never[i] = true
            } else {
                queues[jobGroup[i]].append(i)
            }
        }
        schedule()
    }

    /// Groups with waiting jobs, the one using least of its share now first (ties: the group whose first waiting
    /// job came first, then by name).
    func priorityOrder() -> [Int] {
        queues.indices.filter { heads[$0] < queues[$0].count }.sorted {
            let a = Double(runningCPUs[$0]) / shares[$0]
            let b = Double(runningCPUs[$1]) / shares[$1]
            if a != b { return a < b }
            let x = queues[$0][heads[$0]]
            let y = queues[$1][heads[$1]]
            return x != y ? x < y : $0 < $1
        }
    }

    mutating func schedule() {
        // 1. Start jobs in fair-share order while the first in line fits.
        var head: Int?
        while head == nil {
            guard let g = priorityOrder().first else { return }
            let j = queues[g][heads[g]]
            if jobs[j].processors <= free {
                launch(j)
                skipStarted(g)
            } else {
                head = j
            }
        }
        guard let h = head, free > 0 else { return }
        // 2. The reservation of the first in line, then backfill in the same order.
        let (shadow, spare) = reservation(needing: jobs[h].processors)
        var extra = spare
        for g in priorityOrder() {
            var k = heads[g]
            while k < queues[g].count, free > 0 {
                let j = queues[g][k]
                k += 1
                guard j != h, start[j] < 0, jobs[j].processors <= free else { continue }
                let endsBefore = now + jobs[j].estimatedTime <= shadow
                guard endsBefore || jobs[j].processors <= extra else { continue }
                if !endsBefore { extra -= jobs[j].processors }
                launch(j)
            }
            skipStarted(g)
            compact(g)
        }
    }

    /// The earliest instant `needed` CPUs are free if running jobs end at their estimates, and the CPUs beyond
    /// `needed` free then: every job ending at that instant counts, as in the replay batch's EASY backfill
    /// (`ReplayBatch.reservation(forHeadNeeding:group:)`), so the three layouts schedule alike.
    func reservation(needing needed: Int) -> (shadow: Int, extra: Int) {
        var available = free
        if available >= needed { return (now, available - needed) }
        let ends = running.map { (max(now, start[$0] + jobs[$0].estimatedTime), jobs[$0].processors) }
            .sorted { $0.0 < $1.0 }
        var k = 0
        while k < ends.count {
            let t = ends[k].0
            while k < ends.count, ends[k].0 == t {
                available += ends[k].1
                k += 1
            }
            if available >= needed { return (t, available - needed) }
        }
        return (Int.max, Int.max)
    }

    mutating func launch(_ j: Int) {
        start[j] = now
        end[j] = now + jobs[j].runTime
        free -= jobs[j].processors
        runningCPUs[jobGroup[j]] += jobs[j].processors
        running.append(j)
        pushCompletion((end[j], j))
    }

    mutating func skipStarted(_ g: Int) {
        while heads[g] < queues[g].count, start[queues[g][heads[g]]] >= 0 { heads[g] += 1 }
    }

    /// Drops started jobs from a group's queue once enough of them pile up.
    mutating func compact(_ g: Int) {
        guard queues[g].count > 256 else { return }
        let live = queues[g][heads[g]...].filter { start[$0] < 0 }
        guard live.count * 2 < queues[g].count else { return }
        queues[g] = live
        heads[g] = 0
    }

    // MARK: - Completion heap (min by time, then job)

    func before(_ a: Int, _ b: Int) -> Bool {
        (completions[a].time, completions[a].job) < (completions[b].time, completions[b].job)
    }

    mutating func pushCompletion(_ e: (time: Int, job: Int)) {
        completions.append(e)
        var i = completions.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard before(i, p) else { break }
            completions.swapAt(i, p)
            i = p
        }
    }

    mutating func popCompletion() {
        completions.swapAt(0, completions.count - 1)
        completions.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < completions.count, before(l, m) { m = l }
            if r < completions.count, before(r, m) { m = r }
            guard m != i else { return }
            completions.swapAt(i, m)
            i = m
        }
    }
}
