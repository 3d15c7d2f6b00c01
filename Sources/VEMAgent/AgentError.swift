/// The one error type of the Client's plugin layer.
///
/// Property plugins report a value that cannot be read or converted as a `PropertyResult.failure`
/// carrying an `AgentError`; command plugins put its message in `PluginOutcome.error`. It is a
/// plain value (`Hashable`, `Codable`), so that it can travel on the bus and be compared in tests.
public struct AgentError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: later modules add their own codes.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The code's stable, lower-case name (`missing_file`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// No plugin is registered under the requested name.
        public static let unknownPlugin = Code(rawValue: "unknown_plugin")
        /// A plugin of that name is already registered.
        public static let duplicatePlugin = Code(rawValue: "duplicate_plugin")
        /// The parameters (or arguments) given to a plugin are wrong.
        public static let badParameters = Code(rawValue: "bad_parameters")
        /// A file the plugin reads does not exist or cannot be read.
        public static let missingFile = Code(rawValue: "missing_file")
        /// A file or program output does not have the expected shape.
        public static let malformedInput = Code(rawValue: "malformed_input")
        /// The requested field, interface or line is not in the input.
        public static let notFound = Code(rawValue: "not_found")
        /// A value does not convert to the property's `return_type`.
        public static let conversion = Code(rawValue: "conversion")
        /// A rate or utilisation needs two samples and this is the first one (or counters were reset).
        public static let warmingUp = Code(rawValue: "warming_up")
        /// A system call failed.
        public static let systemCall = Code(rawValue: "system_call")
        /// A program could not be started.
        public static let spawnFailed = Code(rawValue: "spawn_failed")
        /// A program ended with a non-zero status or was killed by a signal.
        public static let programFailed = Code(rawValue: "program_failed")
        /// The work did not finish within its timeout.
        public static let timeout = Code(rawValue: "timeout")
        /// The work was cancelled.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The command (or program) is not in this Client's allowlist.
        public static let notAllowed = Code(rawValue: "not_allowed")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A lower-case, human-readable message without a final period.
    public var message: String
    /// A description of the underlying cause (an `errno` text, a decoder error), if any.
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
