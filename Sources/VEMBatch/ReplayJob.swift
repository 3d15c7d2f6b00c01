/// A job to replay: what the replay batch needs of an SWF record, with its VEM group.
public struct ReplayJob: Sendable, Hashable, Codable {
    /// The job's number in the trace (field 1).
    public var jobNumber: Int
    /// The VEM group whose nodes run it.
    public var group: String
    /// When it is submitted (seconds, trace time).
    public var submitTime: Int
    /// How long it runs once started (seconds; the trace's run time, field 4).
    public var runTime: Int
    /// The run time the scheduler believes for backfill reservations (field 9, or ``runTime`` when the
    /// request is unknown or zero).
    public var estimatedTime: Int
    /// The CPUs it needs (field 8, or field 5 when the request is -1).
    public var processors: Int
    /// The memory it asks for in total, in MiB (0 when unknown).
    public var memoryMB: Int

    /// Creates a job.
    ///
    /// - Parameters:
    ///   - estimatedTime: The scheduler's estimate; `nil` or a non-positive value means `runTime`.
    public init(
        jobNumber: Int, group: String, submitTime: Int, runTime: Int, estimatedTime: Int? = nil,
        processors: Int = 1, memoryMB: Int = 0
    ) {
        self.jobNumber = jobNumber
        self.group = group
        self.submitTime = submitTime
        self.runTime = runTime
        if let e = estimatedTime, e > 0 { self.estimatedTime = e } else { self.estimatedTime = runTime }
        self.processors = processors
        self.memoryMB = memoryMB
    }

    /// Makes a replay job of an SWF record, or `nil` when the record cannot be replayed: its run time is
    /// unknown (-1) or negative, or both its requested and allocated processors are unknown.
    ///
    /// Memory: requested memory (field 10, KiB per processor) × processors, in MiB; 0 when unknown.
    public init?(_ job: SWFJob, group: String) {
        guard job.runTime >= 0, let procs = job.processors else { return nil }
        let memory = job.requestedMemory > 0 ? (job.requestedMemory * procs + 1023) / 1024 : 0
        self.init(
            jobNumber: job.jobNumber, group: group, submitTime: job.submitTime, runTime: job.runTime,
            estimatedTime: job.requestedTime, processors: procs, memoryMB: memory
        )
    }
}

/// What happened to one replayed job.
public struct JobRecord: Sendable, Hashable, Codable {
    /// Where the job stands.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Not submitted yet (its submit time is in the simulated future).
        case future
        /// Submitted, waiting for CPUs.
        case pending
        /// Running.
        case running
        /// Finished.
        case finished
        /// Refused at submission: wider than its group's usable CPUs (``WideJobPolicy/reject``).
        case rejected
    }

    /// The job's number in the trace.
    public var jobNumber: Int
    /// Its VEM group.
    public var group: String
    /// CPUs it used.
    public var processors: Int
    /// How long it runs once started (seconds, the trace's run time).
    public var runTime: Int
    /// Where it stands.
    public var status: Status
    /// When it was submitted.
    public var submit: Int
    /// When it started, if it did.
    public var start: Int?
    /// When it ended, if it did.
    public var end: Int?

    /// Seconds between submission and start, once started.
    public var wait: Int? { start.map { $0 - submit } }
}

/// What the replay batch does with a job that needs more CPUs than its group's usable nodes have.
public enum WideJobPolicy: String, Sendable, Hashable, Codable {
    /// The job waits at its place in the queue until the group has enough usable CPUs (VEM may add nodes).
    /// While it cannot fit even on an empty group it blocks no one: no reservation is made for it, and
    /// later jobs backfill freely.
    case wait
    /// The job is refused when submitted if it is wider than the group's usable CPUs at that instant, and
    /// counted as rejected. Meant for static partitions, where the group will never grow.
    case reject
}

/// A part of a trace to replay: the jobs submitted in `[start, start + duration)`.
public struct ReplayWindow: Sendable, Hashable, Codable {
    /// The first submit time replayed (trace seconds); the replay's clock starts here.
    public var start: Int
    /// How long a stretch of submissions is replayed, or `nil` for everything after `start`.
    public var duration: Int?

    /// Creates a window.
    public init(start: Int, duration: Int? = nil) {
        self.start = start
        self.duration = duration
    }

    /// True when a submit time falls in the window.
    public func contains(_ submit: Int) -> Bool {
        guard submit >= start else { return false }
        guard let duration else { return true }
        return submit - start < duration
    }
}
