/// The one error type of `VEMBatch`: what went wrong with a batch system, a trace file or its data.
///
/// Errors carry an extensible ``Code`` (compare codes, not messages), a human message, an optional
/// underlying cause, and the source location that raised them. Bad *lines* of a trace are not errors:
/// the SWF reader collects them as diagnostics and goes on.
public struct BatchError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code (`unknown_node`, …).
        public var rawValue: String

        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code's name.
        public var description: String { rawValue }

        /// No node of that name is registered.
        public static let unknownNode = Code(rawValue: "unknown_node")
        /// A node of that name is already registered.
        public static let duplicateNode = Code(rawValue: "duplicate_node")
        /// The operation is not allowed in the node's current state (e.g. removing a busy node).
        public static let invalidNodeState = Code(rawValue: "invalid_node_state")
        /// An argument is out of range (a node with 0 CPUs, an empty name, a negative duration, …).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// A group mapping or trace group rule is inconsistent (duplicate names, …).
        public static let invalidMapping = Code(rawValue: "invalid_mapping")
        /// Compressed data is corrupt or truncated, or zlib failed.
        public static let decompression = Code(rawValue: "decompression")
        /// A file could not be opened or read.
        public static let io = Code(rawValue: "io")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, lower-case, no final period.
    public var message: String
    /// The underlying error, when this one wraps another.
    public var cause: (any Error & Sendable)?
    /// The file (`#fileID`) that raised the error.
    public var file: String
    /// The line that raised the error.
    public var line: Int

    /// Creates an error; the source location defaults to the caller's.
    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    /// `code: message` (and the cause, when there is one).
    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }
}
