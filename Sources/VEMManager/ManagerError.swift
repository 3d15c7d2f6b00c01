/// The one error type of VEMManager.
public struct ManagerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error kind. Extensible.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name (`journal`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The configuration is broken (the message holds the rendered diagnostics).
        public static let configuration = Code(rawValue: "configuration")
        /// The journal could not be opened, migrated, read or written.
        public static let journal = Code(rawValue: "journal")
        /// The bus refused an operation (unknown Client, shut down).
        public static let bus = Code(rawValue: "bus")
        /// The operator's HTTP endpoint could not be started.
        public static let http = Code(rawValue: "http")
    }

    /// What kind of error this is.
    public var code: Code
    /// A short explanation without payloads or credentials.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
