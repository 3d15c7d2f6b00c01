extension ReplayBatch {
    /// Creates a replay of an SWF trace whose groups are mapped by `map`.
    ///
    /// Records that cannot be replayed (unknown run time or processors, see ``ReplayJob/init(_:group:)``)
    /// and jobs of dropped groups are left out and counted in ``skippedJobs``; jobs outside the configured
    /// window are left out without being counted.
    ///
    /// - Throws: ``BatchError`` (`invalidArgument`) for a bad configuration.
    public init(trace: SWFTrace, map: TraceGroupMap, configuration: Configuration = Configuration()) throws {
        var jobs: [ReplayJob] = []
        jobs.reserveCapacity(trace.jobs.count)
        var skipped = 0
        for record in trace.jobs {
            guard let group = map.group(of: record), let job = ReplayJob(record, group: group) else {
                skipped += 1
                continue
            }
            jobs.append(job)
        }
        try self.init(jobs: jobs, configuration: configuration)
        skippedJobs = skipped
    }

    /// The names of the groups the replay knows (from its jobs and registered nodes), sorted.
    public var groupNames: [String] { groups.map(\.name).sorted() }
}
