/// The one error type of `VEMPool`: inputs the adapter between batch, hypervisor and planner cannot use.
///
/// Errors carry an extensible ``Code`` (compare codes, not messages), a human message and the source location
/// that raised them.
public struct PoolError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code (`invalid_group`, …).
        public var rawValue: String

        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code's name.
        public var description: String { rawValue }

        /// A group definition the pool cannot use (empty or duplicate name, VM of no CPU).
        public static let invalidGroup = Code(rawValue: "invalid_group")
        /// The planner refused the snapshot or its configuration.
        public static let planner = Code(rawValue: "planner")
        /// A VM record cannot be adopted (duplicate id, unknown group).
        public static let invalidVM = Code(rawValue: "invalid_vm")
        /// An option of a simulation that cannot be read (a window, a duration).
        public static let invalidInput = Code(rawValue: "invalid_input")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, lower-case, no final period.
    public var message: String
    /// The file (`#fileID`) that raised the error.
    public var file: String
    /// The line that raised the error.
    public var line: Int

    /// Creates an error; the source location defaults to the caller's.
    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
