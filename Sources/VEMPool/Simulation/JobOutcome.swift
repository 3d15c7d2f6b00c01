import VEMBatch

/// One job as a layout served it: when it was submitted, started and ended, and whether the layout could ever
/// run it. Measured at a horizon, so a job that never started counts too, with its wait so far.
public struct JobOutcome: Sendable, Hashable, Codable {
    /// The bounded slowdown's threshold (seconds): run times shorter than this count as this long, so that very
    /// short jobs do not dominate the mean (Feitelson et al., "Theory and practice in parallel job scheduling").
    public static let slowdownThreshold = 10

    /// The job's VEM group.
    public var group: String
    /// CPUs it needs.
    public var processors: Int
    /// When it was submitted.
    public var submit: Int
    /// How long it runs once started.
    public var runTime: Int
    /// When it started, if it did before the horizon.
    public var start: Int?
    /// When it ended, if it did before the horizon.
    public var end: Int?
    /// True when the layout can never run it: it needs more CPUs than the layout can ever give its group.
    public var neverRuns: Bool

    /// Creates an outcome.
    public init(
        group: String, processors: Int, submit: Int, runTime: Int, start: Int? = nil, end: Int? = nil,
        neverRuns: Bool = false
    ) {
        self.group = group
        self.processors = processors
        self.submit = submit
        self.runTime = runTime
        self.start = start
        self.end = end
        self.neverRuns = neverRuns
    }

    /// The outcome of a replayed job; `capacity` is the most CPUs the layout can ever give the job's group
    /// (`nil`: no limit known).
    public init(_ record: JobRecord, capacity: Int?) {
        self.init(
            group: record.group, processors: record.processors, submit: record.submit, runTime: record.runTime,
            start: record.start, end: record.end,
            neverRuns: record.start == nil && capacity.map { record.processors > $0 } == true)
    }

    /// Seconds from submission to start; for a job not started by `horizon`, to the horizon (its wait so far).
    public func wait(at horizon: Int) -> Int { max(0, (start ?? max(horizon, submit)) - submit) }

    /// `max(1, (wait + run time) / max(run time, threshold))`, with ``wait(at:)``: for a job not started by the
    /// horizon, a lower bound.
    public func boundedSlowdown(at horizon: Int) -> Double {
        let run = max(0, runTime)
        return max(1, Double(wait(at: horizon) + run) / Double(max(run, Self.slowdownThreshold)))
    }

    /// CPU-seconds it ran before `horizon`.
    public func cpuSeconds(at horizon: Int) -> Int {
        guard let start, start < horizon else { return 0 }
        return processors * (min(end ?? horizon, horizon) - start)
    }
}

/// Waits of a set of jobs at a horizon: every job counts, started or not.
public struct WaitSummary: Sendable, Hashable, Codable {
    /// Jobs submitted.
    public var jobs: Int
    /// Jobs started by the horizon.
    public var started: Int
    /// Jobs finished by the horizon.
    public var finished: Int
    /// Jobs not started by the horizon (counted with their wait so far), those that never run included.
    public var waiting: Int
    /// Jobs the layout can never run (wider than what it can give their group).
    public var neverRuns: Int
    /// Mean wait, seconds.
    public var meanWait: Double
    /// 95th percentile wait (nearest rank: the ⌈0.95·n⌉-th smallest), seconds.
    public var p95Wait: Int
    /// Longest wait, seconds.
    public var maxWait: Int
    /// Mean bounded slowdown (threshold ``JobOutcome/slowdownThreshold``).
    public var meanBoundedSlowdown: Double

    /// Summarises `outcomes` at `horizon`.
    public init(_ outcomes: [JobOutcome], horizon: Int) {
        jobs = outcomes.count
        started = outcomes.count(where: { $0.start != nil })
        finished = outcomes.count(where: { $0.end.map { $0 <= horizon } ?? false })
        waiting = jobs - started
        neverRuns = outcomes.count(where: { $0.neverRuns })
        let waits = outcomes.map { $0.wait(at: horizon) }.sorted()
        meanWait = waits.isEmpty ? 0 : Double(waits.reduce(0, +)) / Double(waits.count)
        let rank = Int((0.95 * Double(waits.count)).rounded(.up))
        p95Wait = waits.isEmpty ? 0 : waits[max(0, min(waits.count, rank) - 1)]
        maxWait = waits.last ?? 0
        meanBoundedSlowdown =
            outcomes.isEmpty ? 0 : outcomes.reduce(0.0) { $0 + $1.boundedSlowdown(at: horizon) } / Double(jobs)
    }
}
