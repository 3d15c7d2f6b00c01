/// The one error type of the Client service (`vem agent`).
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: later modules add their own codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's stable, lower-case name.
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// A configuration file cannot be read or has errors (the message holds the rendered diagnostics).
        public static let configuration = Code(rawValue: "configuration")
        /// The configured bus is not available (`bus = nats` before the NATS bus lands).
        public static let busUnavailable = Code(rawValue: "bus_unavailable")
        /// The token file cannot be read or is empty.
        public static let token = Code(rawValue: "token")
        /// The Client's identity is incomplete (a domU without a group, an empty name).
        public static let identity = Code(rawValue: "identity")
        /// The Reader or Runner could not be built from the configuration.
        public static let setup = Code(rawValue: "setup")
        /// The Manager refused this Client for good.
        public static let rejected = Code(rawValue: "rejected")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, for an administrator (for `.configuration`, the rendered diagnostics, one per line).
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message (diagnostics are already `file:line:col: error: …`).
    public var description: String { message }
}
