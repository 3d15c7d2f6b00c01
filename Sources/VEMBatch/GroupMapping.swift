/// How one VEM group is expressed in the batch system: configuration, not code.
///
/// A group's jobs and nodes are found by any combination of a partition (Slurm `--partition`), a node
/// feature (nodes carry it, jobs ask for it with `--constraint`) and an account (jobs charged to it).
/// A driver registers a group's new node in ``partition`` with ``feature``, and counts as the group's demand
/// the pending jobs that match every field that is set. The replay batch needs none of them: its groups are
/// the names themselves (see ``identity(_:)``).
///
/// ```
/// [group:atlas]
/// partition = grid
/// feature = atlas
/// account = atlas
/// ```
public struct GroupMapping: Sendable, Hashable, Codable {
    /// The VEM group's name.
    public var group: String
    /// The batch partition (queue) of the group, if the group is mapped by partition.
    public var partition: String?
    /// The node feature that marks the group's nodes and that its jobs request, if any.
    public var feature: String?
    /// The account the group's jobs are charged to, if the group is mapped by account.
    public var account: String?

    /// Creates a mapping.
    public init(group: String, partition: String? = nil, feature: String? = nil, account: String? = nil) {
        self.group = group
        self.partition = partition
        self.feature = feature
        self.account = account
    }

    /// A mapping where the batch system knows the group by its own name (the replay batch).
    public static func identity(_ group: String) -> GroupMapping { GroupMapping(group: group) }

    /// Checks a set of mappings: names are non-empty and unique, and no two groups share the exact same
    /// (partition, feature, account) selector unless both select nothing (identity mappings).
    ///
    /// - Throws: ``BatchError`` with code ``BatchError/Code/invalidMapping``.
    public static func validate(_ mappings: [GroupMapping]) throws {
        var names = Set<String>()
        var selectors: [String: String] = [:]
        for m in mappings {
            guard !m.group.isEmpty else { throw BatchError(.invalidMapping, "a group mapping has an empty group name") }
            guard names.insert(m.group).inserted else {
                throw BatchError(.invalidMapping, "group '\(m.group)' is mapped twice")
            }
            guard m.partition != nil || m.feature != nil || m.account != nil else { continue }
            let key = "\(m.partition ?? "")\u{1}\(m.feature ?? "")\u{1}\(m.account ?? "")"
            if let other = selectors[key] {
                throw BatchError(.invalidMapping, "groups '\(other)' and '\(m.group)' select the same jobs")
            }
            selectors[key] = m.group
        }
    }
}
