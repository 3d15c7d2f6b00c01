/// The one error type of `VEMSlurm`: Slurm output that does not parse, an argument that would build a bad
/// command, or a Slurm command that failed, timed out or could not start.
///
/// ``SlurmBatch`` turns these into `VEMBatch.BatchError` at its ``BatchSystem`` edge (keeping this error as
/// the cause); the agent plugins turn them into `AgentError` values and command outcomes.
public struct SlurmError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code (`malformed_output`, …).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// `squeue --json` / `sinfo --json` output is not JSON or does not have the expected shape.
        public static let malformedOutput = Code(rawValue: "malformed_output")
        /// Slurm answered, but reported errors (the JSON `errors` array; slurmctld unreachable).
        public static let slurmReported = Code(rawValue: "slurm_reported")
        /// An argument would build an invalid or unsafe command (a bad node name, 0 CPUs, …).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// A Slurm command did not finish within its timeout and was stopped.
        public static let timeout = Code(rawValue: "timeout")
        /// A Slurm command could not be started (missing binary, …).
        public static let spawnFailed = Code(rawValue: "spawn_failed")
        /// A Slurm command exited with a non-zero status.
        public static let commandFailed = Code(rawValue: "command_failed")
        /// Slurm does not know the node.
        public static let unknownNode = Code(rawValue: "unknown_node")
        /// A node of that name already exists.
        public static let duplicateNode = Code(rawValue: "duplicate_node")
        /// The node's state forbids the operation (deleting a node that still runs jobs, …).
        public static let invalidNodeState = Code(rawValue: "invalid_node_state")
        /// The group is not mapped, or its mapping cannot express the operation (no feature to register by).
        public static let invalidMapping = Code(rawValue: "invalid_mapping")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, lower-case, no final period.
    public var message: String
    /// The underlying cause as text (standard error of the command, a decoder error), if any.
    public var cause: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong, for an administrator.
    ///   - cause: The underlying cause, if any.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `code: message (cause)`.
    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }
}
