import VEMCore

/// One job of a Standard Workload Format trace (Parallel Workloads Archive, Feitelson et al.): the 18
/// fields of a data line, in file order. `-1` means unknown, as in the format.
///
/// Times are seconds; ``submitTime`` is relative to the header's `UnixStartTime`. Memory fields are KiB per
/// processor. Fields 6 and 7 may be fractional in SWF and are kept as `Double`; a fractional value in any
/// other field is truncated toward zero.
public struct SWFJob: Sendable, Hashable, Codable {
    /// Field 1: job number.
    public var jobNumber: Int
    /// Field 2: submit time, seconds since the trace start.
    public var submitTime: Int
    /// Field 3: wait time in the original system (seconds), or -1.
    public var waitTime: Int
    /// Field 4: run time (seconds), or -1.
    public var runTime: Int
    /// Field 5: processors allocated, or -1.
    public var allocatedProcessors: Int
    /// Field 6: average CPU time used per processor (seconds), or -1.
    public var averageCPUTime: Double
    /// Field 7: memory used per processor (KiB), or -1.
    public var usedMemory: Double
    /// Field 8: processors requested, or -1.
    public var requestedProcessors: Int
    /// Field 9: run time requested (seconds), or -1.
    public var requestedTime: Int
    /// Field 10: memory requested per processor (KiB), or -1.
    public var requestedMemory: Int
    /// Field 11: status (1 completed, 0 failed, 5 cancelled, …), or -1.
    public var status: Int
    /// Field 12: user id, or -1.
    public var userID: Int
    /// Field 13: group id, or -1.
    public var groupID: Int
    /// Field 14: executable (application) number, or -1.
    public var executableID: Int
    /// Field 15: queue number, or -1.
    public var queueID: Int
    /// Field 16: partition number, or -1.
    public var partitionID: Int
    /// Field 17: preceding job number, or -1.
    public var precedingJob: Int
    /// Field 18: think time from the preceding job (seconds), or -1.
    public var thinkTime: Int

    /// Creates a job; every field not given is unknown (-1).
    public init(
        jobNumber: Int, submitTime: Int, waitTime: Int = -1, runTime: Int, allocatedProcessors: Int = -1,
        averageCPUTime: Double = -1, usedMemory: Double = -1, requestedProcessors: Int = -1,
        requestedTime: Int = -1, requestedMemory: Int = -1, status: Int = -1, userID: Int = -1,
        groupID: Int = -1, executableID: Int = -1, queueID: Int = -1, partitionID: Int = -1,
        precedingJob: Int = -1, thinkTime: Int = -1
    ) {
        self.jobNumber = jobNumber
        self.submitTime = submitTime
        self.waitTime = waitTime
        self.runTime = runTime
        self.allocatedProcessors = allocatedProcessors
        self.averageCPUTime = averageCPUTime
        self.usedMemory = usedMemory
        self.requestedProcessors = requestedProcessors
        self.requestedTime = requestedTime
        self.requestedMemory = requestedMemory
        self.status = status
        self.userID = userID
        self.groupID = groupID
        self.executableID = executableID
        self.queueID = queueID
        self.partitionID = partitionID
        self.precedingJob = precedingJob
        self.thinkTime = thinkTime
    }

    /// The processors the job needs: requested processors, or allocated ones when the request is unknown;
    /// `nil` when both are unknown.
    public var processors: Int? {
        if requestedProcessors > 0 { return requestedProcessors }
        if allocatedProcessors > 0 { return allocatedProcessors }
        return nil
    }

    /// CPU time consumed: run time × processors (0 when either is unknown).
    public var cpuSeconds: Int {
        guard runTime > 0, let p = processors else { return 0 }
        return runTime &* p
    }

    /// When the job ended in the original system: submit + wait (when known) + run time (when known).
    public var endTime: Int { submitTime + max(0, waitTime) + max(0, runTime) }
}

/// One `; Key: value` line of an SWF header.
public struct SWFHeaderField: Sendable, Hashable, Codable {
    /// The key (`UnixStartTime`, `MaxProcs`, `Partition`, …).
    public var key: String
    /// The value, trimmed.
    public var value: String
    /// The line of the header comment.
    public var line: Int

    /// Creates a header field.
    public init(key: String, value: String, line: Int) {
        self.key = key
        self.value = value
        self.line = line
    }
}

/// The header comments of an SWF trace, in file order, with typed accessors for the common keys.
///
/// Keys may repeat (`Partition:` once per partition); the accessors read the first occurrence. Comment lines
/// without a `Key:` (continuations, notes) are kept in ``notes``.
public struct SWFHeader: Sendable, Hashable, Codable {
    /// Every `; Key: value` line, in order.
    public var fields: [SWFHeaderField] = []
    /// Comment lines that are not `Key: value` (trimmed, without the `;`), in order.
    public var notes: [String] = []

    /// Creates an empty header.
    public init() {}

    /// The first value of a key (compared case-insensitively), if present.
    public subscript(key: String) -> String? {
        let k = key.lowercased()
        return fields.first { $0.key.lowercased() == k }?.value
    }

    /// Every value of a repeated key, in order.
    public func values(of key: String) -> [String] {
        let k = key.lowercased()
        return fields.filter { $0.key.lowercased() == k }.map(\.value)
    }

    private func integer(_ key: String) -> Int? {
        guard let v = self[key] else { return nil }
        return Int(v.split(separator: " ").first ?? "")
    }

    /// `Version:` of the format.
    public var version: String? { self["Version"] }
    /// `Computer:` the machine the trace comes from.
    public var computer: String? { self["Computer"] }
    /// `Installation:` the site.
    public var installation: String? { self["Installation"] }
    /// `UnixStartTime:` the Unix time of submit time 0.
    public var unixStartTime: Int? { integer("UnixStartTime") }
    /// `MaxJobs:` the number of jobs in the original log.
    public var maxJobs: Int? { integer("MaxJobs") }
    /// `MaxRecords:` the number of records in the file.
    public var maxRecords: Int? { integer("MaxRecords") }
    /// `MaxNodes:` the machine's node count.
    public var maxNodes: Int? { integer("MaxNodes") }
    /// `MaxProcs:` the machine's processor count.
    public var maxProcs: Int? { integer("MaxProcs") }
    /// `TimeZoneString:` the site's time zone.
    public var timeZoneString: String? { self["TimeZoneString"] }
}

/// A whole SWF trace: the header, the jobs in file order, and the lines that could not be read.
public struct SWFTrace: Sendable, Hashable {
    /// The file name used in diagnostics.
    public var name: String
    /// The header comments.
    public var header: SWFHeader
    /// The jobs read, in file order.
    public var jobs: [SWFJob]
    /// Lines in the file (the last one counted even without a final newline).
    public var lineCount: Int
    /// How many data lines were skipped because they could not be read.
    public var badLineCount: Int
    /// One warning per bad line (`file:line:col: warning: …`), for the first ``SWFParser/maxDiagnostics``
    /// bad lines only; ``badLineCount`` counts them all.
    public var diagnostics: [Diagnostic]

    /// Creates a trace.
    public init(
        name: String, header: SWFHeader = SWFHeader(), jobs: [SWFJob] = [], lineCount: Int = 0,
        badLineCount: Int = 0, diagnostics: [Diagnostic] = []
    ) {
        self.name = name
        self.header = header
        self.jobs = jobs
        self.lineCount = lineCount
        self.badLineCount = badLineCount
        self.diagnostics = diagnostics
    }

    /// The first submit time and the last end time (`submit + wait + run`, unknowns as 0) over all jobs;
    /// `nil` for an empty trace.
    public var span: (start: Int, end: Int)? {
        guard var start = jobs.first?.submitTime, var end = jobs.first?.endTime else { return nil }
        for j in jobs {
            start = min(start, j.submitTime)
            end = max(end, j.endTime)
        }
        return (start, end)
    }
}
