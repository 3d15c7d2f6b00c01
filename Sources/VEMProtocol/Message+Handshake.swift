import VEMCore

/// The first message of every connection: who the Client is, and where its command stream stands.
public struct Hello: Hashable, Sendable {
    /// The Client's unique name (`host07`, `atlas-vm-12`).
    public var name: String
    /// What kind of Client this is.
    public var role: ClientRole
    /// The real host the Client runs on (for a domU: its Dom0's host name).
    public var host: String
    /// The user group a VM belongs to (`nil` for hosts and the batch node).
    public var group: String?
    /// The hypervisor's VM identifier (`nil` outside a VM).
    public var vmID: String?
    /// The Client's software version (`1.4.0`).
    public var version: String
    /// A number chosen anew at every Client process start; a different value means the previous process is gone
    /// (and with it every command it had not reported).
    public var incarnation: UInt64
    /// The Client's credential. Never log it.
    public var token: String
    /// Resume state: the sequence number of the last command this incarnation handed to its Runner (0 if none).
    public var lastExecutedSeq: UInt64
    /// Resume state: the sequence numbers of results this incarnation still holds (not yet confirmed), ascending.
    public var heldResults: [UInt64]

    /// Creates a hello.
    public init(
        name: String, role: ClientRole, host: String, group: String? = nil, vmID: String? = nil,
        version: String, incarnation: UInt64, token: String, lastExecutedSeq: UInt64 = 0, heldResults: [UInt64] = []
    ) {
        self.name = name
        self.role = role
        self.host = host
        self.group = group
        self.vmID = vmID
        self.version = version
        self.incarnation = incarnation
        self.token = token
        self.lastExecutedSeq = lastExecutedSeq
        self.heldResults = heldResults
    }
}

/// The Manager accepted a Client: the session parameters and where the command stream resumes.
public struct Welcome: Hashable, Sendable {
    /// A number chosen anew at every Manager process start (its epoch).
    public var managerIncarnation: UInt64
    /// How often each side sends a heartbeat when otherwise idle, in milliseconds.
    public var heartbeatIntervalMilliseconds: UInt64
    /// `true` when the Manager continues the command stream of the same Client incarnation (a reconnect);
    /// `false` when it starts a new stream (new incarnation, or the Manager forgot the Client).
    public var resumed: Bool
    /// The first command of this stream has sequence number `commandBase + 1`.
    public var commandBase: UInt64
    /// The Manager has every result (or has given up on it) with a sequence number `<= resultsReceivedThrough`.
    public var resultsReceivedThrough: UInt64
    /// Results above `resultsReceivedThrough` the Manager already has, ascending.
    public var resultsReceivedAbove: [UInt64]

    /// Creates a welcome. The command-stream fields are normally filled in by ``CommandStream/ManagerSide``.
    public init(
        managerIncarnation: UInt64, heartbeatIntervalMilliseconds: UInt64, resumed: Bool = false,
        commandBase: UInt64 = 0, resultsReceivedThrough: UInt64 = 0, resultsReceivedAbove: [UInt64] = []
    ) {
        self.managerIncarnation = managerIncarnation
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.resumed = resumed
        self.commandBase = commandBase
        self.resultsReceivedThrough = resultsReceivedThrough
        self.resultsReceivedAbove = resultsReceivedAbove
    }
}

/// Why the Manager refused a Client.
public struct Reject: Hashable, Sendable {
    /// The kind of refusal.
    public enum Reason: UInt8, Hashable, Sendable, CaseIterable {
        /// Anything else (see `detail`).
        case other = 0
        /// The token or certificate was not accepted.
        case badCredentials = 1
        /// The Client speaks a protocol version the Manager does not.
        case unsupportedVersion = 2
        /// Another live Client already uses this name.
        case duplicateName = 3
        /// The Client is not allowed in (unknown name, wrong role for its credential, …).
        case forbidden = 4
        /// The Manager is shutting down.
        case shuttingDown = 5
    }

    /// The kind of refusal.
    public var reason: Reason
    /// A human-readable explanation (no secrets).
    public var detail: String

    /// Creates a reject.
    public init(_ reason: Reason, detail: String = "") {
        self.reason = reason
        self.detail = detail
    }
}

/// A liveness signal, sent when a side has had nothing else to send for a heartbeat interval.
public struct Heartbeat: Hashable, Sendable {
    /// The sender's clock when sending, milliseconds since the Unix epoch (informational; fed in, never read here).
    public var timestampMilliseconds: UInt64
    /// Creates a heartbeat.
    public init(timestampMilliseconds: UInt64 = 0) { self.timestampMilliseconds = timestampMilliseconds }
}

/// Graceful leave: the sender is going away on purpose (not a disconnect).
public struct Bye: Hashable, Sendable {
    /// Why (`shutdown`, `vm destroyed`).
    public var reason: String
    /// Creates a bye.
    public init(reason: String = "") { self.reason = reason }
}
