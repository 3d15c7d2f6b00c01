/// How the groups of a trace (SWF field 13; or the user, queue or partition: ``key``) become VEM groups.
///
/// **The rule.** Every trace group (every value of the ``key`` field) is weighed by its CPU time: the sum over
/// its jobs of run time (field 4) × processors (requested, field 8, or allocated, field 5, when the request is
/// unknown); jobs whose run time or processors are unknown weigh 0. The groups are ranked by CPU time,
/// descending (ties: the smaller id first). The first ``topGroups`` of the ranking become VEM groups of their
/// own, named in rank order by ``names`` (the heaviest gets `names[0]`, …); a group past the end of `names` is
/// named `g<id>` (`g12`; `u12`, `q12`, `p12` by user, queue or partition), and the unknown id `-1` is named
/// `unknown`. Every other trace group goes to the group ``otherGroup``
/// (default `other`), or, when `otherGroup` is `nil`, its jobs are dropped from the replay.
public struct TraceGroupRule: Sendable, Hashable, Codable {
    /// The SWF field that says which group a job belongs to (some public traces carry no group field).
    public enum Key: String, Sendable, Hashable, Codable, CaseIterable {
        /// Field 13, the group id.
        case group
        /// Field 12, the user id.
        case user
        /// Field 15, the queue number.
        case queue
        /// Field 16, the partition number.
        case partition

        /// The job's value of this field (-1 when unknown).
        public func id(of job: SWFJob) -> Int {
            switch self {
            case .group: job.groupID
            case .user: job.userID
            case .queue: job.queueID
            case .partition: job.partitionID
            }
        }

        /// The letter of default names: `g12`, `u12`, `q12`, `p12`.
        var prefix: String {
            switch self {
            case .group: "g"
            case .user: "u"
            case .queue: "q"
            case .partition: "p"
            }
        }
    }

    /// The field jobs are grouped by (default ``Key/group``).
    public var key: Key
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
    ///   - key: The field jobs are grouped by (default the group id).
    public init(topGroups: Int, names: [String] = [], otherGroup: String? = "other", key: Key = .group) {
        self.key = key
        self.topGroups = topGroups
        self.names = names
        self.otherGroup = otherGroup
    }

    /// The default name of a trace group: `g<id>`, or `unknown` for id -1.
    public static func defaultName(of groupID: Int) -> String { defaultName(of: groupID, key: .group) }

    /// The default name of a value of `key`: `g<id>` (group), `u<id>` (user), `q<id>` (queue), `p<id>`
    /// (partition), or `unknown` for -1.
    public static func defaultName(of id: Int, key: Key) -> String { id < 0 ? "unknown" : key.prefix + String(id) }
}

/// One trace group's weight.
public struct TraceGroupShare: Sendable, Hashable, Codable {
    /// The trace's id in the rule's key field (the group id, field 13, by default; -1 when unknown).
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
    public func group(of job: SWFJob) -> String? { assignment[rule.key.id(of: job)] }

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
            let id = rule.key.id(of: job)
            weights[id, default: (0, 0)].jobs += 1
            weights[id, default: (0, 0)].cpu += c
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
            let name =
                rank < rule.names.count ? rule.names[rank] : TraceGroupRule.defaultName(of: g.groupID, key: rule.key)
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
