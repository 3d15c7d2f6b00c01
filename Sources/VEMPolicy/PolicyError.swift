/// The one error type of `VEMPolicy`: a snapshot or configuration the planner cannot reason about.
///
/// Errors carry an extensible ``Code`` (compare codes, not messages), a human message naming the offending
/// record, and the source location that raised them.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code (`invalid_snapshot`, …).
        public var rawValue: String

        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code's name.
        public var description: String { rawValue }

        /// A snapshot record is inconsistent (duplicate name, negative size, min above max, …).
        public static let invalidSnapshot = Code(rawValue: "invalid_snapshot")
        /// A configuration value is out of range (negative limit or duration).
        public static let invalidConfiguration = Code(rawValue: "invalid_configuration")
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
