import VEMRules

/// `GET /v1/status`: the bus, Clients by role, triggers, commands, last errors.
public struct StatusReport: Hashable, Sendable, Codable {
    /// The bus (`hub 127.0.0.1:7400`).
    public var bus: String
    /// When the Manager started (seconds since 1970).
    public var startedAt: Double
    /// Now, by the Manager's clock.
    public var now: Double
    /// Connected Clients by role (`dom0`, `domU`, `batch`).
    public var connectedByRole: [String: Int]
    /// Clients known (connected or not) since start.
    public var knownClients: Int
    /// Bus events handled, property readings received, connections refused.
    public var busEvents: UInt64
    /// Property readings received.
    public var propertyUpdates: UInt64
    /// Connections refused before admission.
    public var rejectedConnections: UInt64
    /// Triggers configured.
    public var triggers: Int
    /// Trigger evaluations that failed, all triggers together.
    public var triggerErrors: Int
    /// Commands by journal state.
    public var commands: [String: Int]
    /// What the journal recovered at start.
    public var recovery: Manager.RecoverySummary?
    /// The journal's path.
    public var journal: String
    /// The latest errors, newest last.
    public var lastErrors: [LoggedError]
    /// Whether the operator paused the planner (`vem pause`); nil from a Manager that predates it.
    public var paused: Bool? = nil
    /// The hosts the operator is draining (`vem host drain`), by name.
    public var drainedHosts: [String]? = nil
}

/// One Client in `GET /v1/clients`.
public struct ClientReport: Hashable, Sendable, Codable {
    /// Name, role, host, group, VM id, version, incarnation.
    public var name: String
    /// `dom0`, `domU`, `batch`.
    public var role: String
    /// Real host.
    public var host: String
    /// Group, for VMs.
    public var group: String?
    /// Hypervisor VM id.
    public var vm: String?
    /// Software version.
    public var version: String
    /// Process incarnation.
    public var incarnation: UInt64
    /// Connected now.
    public var connected: Bool
    /// Admitted at.
    public var connectedSince: Double
    /// Last heard from at.
    public var lastSeen: Double
    /// Why it is gone (when not connected).
    public var goneReason: String?
    /// How many properties it has reported.
    public var properties: Int
}

/// One property of one Client in `GET /v1/props`.
public struct PropertyRow: Hashable, Sendable, Codable {
    /// The Client.
    public var client: String
    /// The property.
    public var name: String
    /// Its value (nil when reading it failed).
    public var value: JSON?
    /// The Client's error, when reading it failed.
    public var error: String?
    /// Seconds since it was received.
    public var age: Double
}

/// `GET /v1/explain?name=`: the planner's account of the last `policy.rebalance()` and the decision log entries
/// about a VM or group (or the latest ones).
public struct ExplainReport: Hashable, Sendable, Codable {
    /// The VM or group asked about (nil: the latest decisions).
    public var subject: String?
    /// The trigger that ran the last rebalance (nil before the first).
    public var trigger: String?
    /// The planner's explanation of the last rebalance (per group share, demand, target; the directives and
    /// their reasons); nil before the first.
    public var explanation: String?
    /// The decisions about the subject (or the latest 20), newest first.
    public var decisions: [DecisionRecord]
}

/// `GET /v1/vms`: one VM of the pool, as the Manager's reconciler follows it.
public struct VMReport: Hashable, Sendable, Codable {
    /// The VM's name (also its batch node's name).
    public var name: String
    /// Its group.
    public var group: String
    /// Its host.
    public var host: String
    /// Where it is in its life: `creating`, `booting`, `registering`, `active`, `draining`, `removing`,
    /// `destroying`.
    public var stage: String
    /// vCPUs and memory (MiB).
    public var cpus: Int
    /// Memory in MiB.
    public var memoryMiB: Int
    /// Created at (Manager time, seconds).
    public var createdAt: Int
    /// Its DomU Client has joined.
    public var clientJoined: Bool
    /// A node of the batch system.
    public var registered: Bool
    /// Running jobs, as the batch system last said.
    public var busy: Bool
    /// Idle since (Manager time), when idle.
    public var idleSince: Int?
    /// The host a live migration is moving it to.
    public var migratingTo: String?
    /// An operation is under way.
    public var operationPending: Bool
}
