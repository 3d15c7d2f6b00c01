import VEMBatch

/// Several windows spread over a trace, each replayed on the three layouts (``Comparison``), and what they say
/// together: what a site would run on its own accounting data before adopting VEM.
public struct Sweep: Sendable, Hashable, Codable {
    /// One window's figures.
    public struct Row: Sendable, Hashable, Codable {
        /// The window.
        public var window: ReplayWindow
        /// Jobs submitted in it.
        public var jobs: Int
        /// Mean wait over all jobs, seconds: static, pool, ideal.
        public var meanWait: Triple
        /// 95th percentile wait, seconds.
        public var p95Wait: Triple
        /// Mean bounded slowdown.
        public var boundedSlowdown: Triple
        /// Jobs not started at the horizon.
        public var pending: Triple
        /// Jobs a layout can never run.
        public var neverRuns: Triple
        /// Jobs the ideal machine finished that the pool had not started by the horizon.
        public var poolLeftBehind: Int
        /// Groups whose guarantee does not hold.
        public var guaranteeBroken: [String]
        /// Groups whose demand stayed within their share (those the guarantee covers).
        public var withinShare: [String]
        /// Groups whose guarantee the ideal machine (fair share, no preemption, no allowance) does not keep.
        public var idealBroken: [String]
        /// Jobs the pool killed by preemption and requeued.
        public var requeuedJobs: Int
        /// CPU-seconds of work they lost.
        public var lostCPUSeconds: Int

        /// The row of one window's comparison.
        public init(window: ReplayWindow, comparison c: Comparison) {
            self.window = window
            jobs = c.staticLayout.total.jobs
            let i = c.ideal?.total
            meanWait = Triple(c.staticLayout.total.meanWait, c.dynamic.total.meanWait, i?.meanWait ?? 0)
            p95Wait = Triple(
                Double(c.staticLayout.total.p95Wait), Double(c.dynamic.total.p95Wait), Double(i?.p95Wait ?? 0))
            boundedSlowdown = Triple(
                c.staticLayout.total.meanBoundedSlowdown, c.dynamic.total.meanBoundedSlowdown,
                i?.meanBoundedSlowdown ?? 0)
            pending = Triple(
                Double(c.staticLayout.total.pending), Double(c.dynamic.total.pending), Double(i?.pending ?? 0))
            neverRuns = Triple(
                Double(c.staticLayout.total.neverRuns), Double(c.dynamic.total.neverRuns), Double(i?.neverRuns ?? 0))
            poolLeftBehind = c.poolLeftBehind
            guaranteeBroken = c.guarantee.filter { !$0.holds }.map(\.group)
            withinShare = c.guarantee.filter(\.withinShare).map(\.group)
            idealBroken = c.idealGuarantee.filter { !$0.holds }.map(\.group)
            requeuedJobs = c.dynamic.requeuedJobs
            lostCPUSeconds = c.dynamic.lostCPUSeconds
        }
    }

    /// One figure for each layout.
    public struct Triple: Sendable, Hashable, Codable {
        /// Static partitions.
        public var fixed: Double
        /// The dynamic pool.
        public var pool: Double
        /// The ideal machine.
        public var ideal: Double

        /// Creates a triple.
        public init(_ fixed: Double, _ pool: Double, _ ideal: Double) {
            self.fixed = fixed
            self.pool = pool
            self.ideal = ideal
        }
    }

    /// The windows, in time order.
    public var rows: [Row]

    /// Creates a sweep from its rows.
    public init(rows: [Row]) { self.rows = rows }

    /// `count` windows of `duration` seconds spread evenly over the submissions of `jobs`: the first starts at the
    /// first submission, the last ends at the last one (one window when the trace is shorter than `duration`).
    /// Starts are whole minutes.
    public static func windows(jobs: [ReplayJob], count: Int, duration: Int) -> [ReplayWindow] {
        guard count >= 1, duration >= 1, let first = jobs.map(\.submitTime).min(),
            let last = jobs.map(\.submitTime).max()
        else { return [] }
        let room = max(0, last + 1 - duration - first)
        let n = room == 0 ? 1 : count
        return (0..<n).map { i in
            let offset = n == 1 ? 0 : room * i / (n - 1)
            return ReplayWindow(start: (first + offset) / 60 * 60, duration: duration)
        }
    }

    /// Mean over the windows of each layout's mean wait, seconds.
    public var meanWait: Triple {
        let n = Double(max(1, rows.count))
        return Triple(
            rows.reduce(0) { $0 + $1.meanWait.fixed } / n, rows.reduce(0) { $0 + $1.meanWait.pool } / n,
            rows.reduce(0) { $0 + $1.meanWait.ideal } / n)
    }

    /// Windows where the pool's mean wait is at most the static layout's.
    public var poolNoWorseThanStatic: Int { rows.count(where: { $0.meanWait.pool <= $0.meanWait.fixed }) }

    /// Windows where every group's guarantee holds.
    public var guaranteeHeld: Int { rows.count(where: { $0.guaranteeBroken.isEmpty }) }

    /// Windows where the ideal machine keeps every group's guarantee (the calibration of the check).
    public var idealGuaranteeHeld: Int { rows.count(where: { $0.idealBroken.isEmpty }) }

    /// Static's mean wait over the pool's, averaged over the windows (∞ when the pool never waits).
    public var poolGain: Double {
        let m = meanWait
        return m.pool > 0 ? m.fixed / m.pool : (m.fixed > 0 ? .infinity : 1)
    }

    /// The pool's mean wait over the ideal's, averaged over the windows.
    public var poolOverIdeal: Double {
        let m = meanWait
        return m.ideal > 0 ? m.pool / m.ideal : (m.pool > 0 ? .infinity : 1)
    }
}

extension Comparison {
    /// What identifies one job across layouts: its group, submission, width and run time.
    struct JobKey: Hashable {
        var group: String
        var submit: Int
        var processors: Int
        var runTime: Int

        init(_ o: JobOutcome) {
            group = o.group
            submit = o.submit
            processors = o.processors
            runTime = o.runTime
        }
    }

    /// How many jobs the ideal machine finished by `horizon` that the pool had not even started then (matched by
    /// group, submit time, width and run time).
    static func leftBehind(pool: [JobOutcome], ideal: [JobOutcome], horizon: Int) -> Int {
        func key(_ o: JobOutcome) -> JobKey { JobKey(o) }
        var idealDone: [JobKey: Int] = [:]
        for o in ideal where o.end.map({ $0 <= horizon }) ?? false { idealDone[key(o), default: 0] += 1 }
        var count = 0
        for o in pool where o.start == nil {
            if let n = idealDone[key(o)], n > 0 {
                idealDone[key(o)] = n - 1
                count += 1
            }
        }
        return count
    }
}
