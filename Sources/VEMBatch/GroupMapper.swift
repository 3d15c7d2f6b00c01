/// How the groups of a trace (SWF field 13) become VEM groups.
///
/// **The rule.** Every trace group is weighed by its CPU time: the sum over its jobs of run time (field 4)
/// × processors (requested, field 8, or allocated, field 5, when the request is unknown); jobs whose run
/// time or processors are unknown weigh 0. The groups are ranked by CPU time, descending (ties: the smaller
/// group id first). The first ``topGroups`` of the ranking become VEM groups of their own, named in rank order
/// by ``names`` (the heaviest gets `names[0]`, …); a group past the end of `names` is named `g<id>` (`g12`),
/// and the unknown group `-1` is named `unknown`. Every other trace group goes to the group ``otherGroup``
/// (default `other`), or, when `otherGroup` is `nil`, its jobs are dropped from the replay.
public struct TraceGroupRule: Sendable, Hashable, Codable {
    /// How many of the heaviest trace groups get a VEM group of their own.
    public var topGroups: Int
    /// Names for the top groups, in rank order; may be shorter than `topGroups`.
    public var names: [String]
    /// The group that collects every other trace group, or `nil` to drop their jobs.
    public var otherGroup: String?

    /// Creates a rule.
    ///
    /// - Parameters:
    ///   - topGroups: How many of the heaviest trace groups get a VEM group of their own (≥ 0).
    ///   - names: Names for them, in rank order (default: `g<id>`).
    ///   - otherGroup: Where the rest go (default `other`; `nil` drops them).
    public init(topGroups: Int, names: [String] = [], otherGroup: String? = "other") {
        self.topGroups = topGroups
        self.names = names
        self.otherGroup = otherGroup
    }

    /// The default name of a trace group: `g<id>`, or `unknown` for id -1.
    public static func defaultName(of groupID: Int) -> String { groupID < 0 ? "unknown" : "g\(groupID)" }
}

/// One trace group's weight.
public struct TraceGroupShare: Sendable, Hashable, Codable {
    /// The trace's group id (field 13; -1 when unknown).
    public var groupID: Int
    /// Jobs of the group.
    public var jobs: Int
    /// Run time × processors summed over the group's jobs.
    public var cpuSeconds: Int
    /// The group's fraction of the trace's CPU time (0…1).
    public var share: Double
}

/// One VEM group produced by a ``TraceGroupRule``.
public struct MappedGroup: Sendable, Hashable, Codable {
    /// The VEM group's name.
    public var name: String
    /// The trace group ids it gathers (one for a top group, the rest for the other group).
    public var traceGroups: [Int]
    /// Jobs it receives.
    public var jobs: Int
    /// CPU time it receives.
    public var cpuSeconds: Int
    /// Its fraction of the trace's CPU time (0…1).
    public var share: Double
}

/// The result of applying a ``TraceGroupRule`` to a trace: the ranking and the assignment.
public struct TraceGroupMap: Sendable, Hashable {
    /// The rule applied.
    public var rule: TraceGroupRule
    /// Every trace group, heaviest first.
    public var ranking: [TraceGroupShare]
    /// The VEM groups: the top groups in rank order, then the other group (when it has jobs).
    public var groups: [MappedGroup]
    /// Trace group id → VEM group name; an absent id is dropped.
    public var assignment: [Int: String]
    /// Jobs dropped (their group is not a top group and `otherGroup` is `nil`).
    public var droppedJobs: Int

    /// The VEM group of a job, or `nil` when its group is dropped.
    public func group(of job: SWFJob) -> String? { assignment[job.groupID] }

    /// Applies a rule to a trace's jobs.
    ///
    /// - Throws: ``BatchError`` (`invalidMapping`) when `topGroups` is negative or two VEM groups would get
    ///   the same name (duplicate `names`, a name equal to `otherGroup` or to a generated `g<id>`).
    public init(jobs: [SWFJob], rule: TraceGroupRule) throws {
        guard rule.topGroups >= 0 else { throw BatchError(.invalidMapping, "the number of groups cannot be negative") }
        var weights: [Int: (jobs: Int, cpu: Int)] = [:]
        var total = 0
        for job in jobs {
            let c = job.cpuSeconds
            weights[job.groupID, default: (0, 0)].jobs += 1
            weights[job.groupID, default: (0, 0)].cpu += c
            total += c
        }
        let share: (Int) -> Double = { total > 0 ? Double($0) / Double(total) : 0 }
        let ranking = weights.map {
            TraceGroupShare(groupID: $0.key, jobs: $0.value.jobs, cpuSeconds: $0.value.cpu, share: share($0.value.cpu))
        }
        .sorted { $0.cpuSeconds != $1.cpuSeconds ? $0.cpuSeconds > $1.cpuSeconds : $0.groupID < $1.groupID }

        var groups: [MappedGroup] = []
        var assignment: [Int: String] = [:]
        var used = Set<String>()
        for (rank, g) in ranking.prefix(rule.topGroups).enumerated() {
            let name = rank < rule.names.count ? rule.names[rank] : TraceGroupRule.defaultName(of: g.groupID)
            guard !name.isEmpty else { throw BatchError(.invalidMapping, "group name \(rank + 1) is empty") }
            guard used.insert(name).inserted, name != rule.otherGroup else {
                throw BatchError(.invalidMapping, "group name '\(name)' is used twice")
            }
            groups.append(
                MappedGroup(
                    name: name, traceGroups: [g.groupID], jobs: g.jobs, cpuSeconds: g.cpuSeconds, share: g.share))
            assignment[g.groupID] = name
        }
        let rest = ranking.dropFirst(rule.topGroups)
        var dropped = 0
        if let other = rule.otherGroup {
            guard !other.isEmpty else { throw BatchError(.invalidMapping, "the other group's name is empty") }
            if !rest.isEmpty {
                var merged = MappedGroup(name: other, traceGroups: [], jobs: 0, cpuSeconds: 0, share: 0)
                for g in rest {
                    merged.traceGroups.append(g.groupID)
                    merged.jobs += g.jobs
                    merged.cpuSeconds += g.cpuSeconds
                    assignment[g.groupID] = other
                }
                merged.traceGroups.sort()
                merged.share = share(merged.cpuSeconds)
                groups.append(merged)
            }
        } else {
            dropped = rest.reduce(0) { $0 + $1.jobs }
        }
        self.rule = rule
        self.ranking = ranking
        self.groups = groups
        self.assignment = assignment
        self.droppedJobs = dropped
    }
}
