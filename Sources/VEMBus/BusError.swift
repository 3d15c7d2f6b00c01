import VEMProtocol

/// The one error type of VEMBus.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error kind. Extensible.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name (`unknown_client`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// No Client of that name ever joined.
        public static let unknownClient = Code(rawValue: "unknown_client")
        /// The bus is not connected (a Client between connections) or not running.
        public static let notConnected = Code(rawValue: "not_connected")
        /// The Manager refused this Client (see the message).
        public static let rejected = Code(rawValue: "rejected")
        /// A message could not be encoded (too large).
        public static let encoding = Code(rawValue: "encoding")
        /// The transport failed (bind, connect, …).
        public static let transport = Code(rawValue: "transport")
        /// The bus was shut down.
        public static let shutDown = Code(rawValue: "shut_down")
        /// The addressed Client's role may not receive this command (`vm.*` to anything but a dom0).
        public static let forbidden = Code(rawValue: "forbidden")
    }

    /// What kind of error this is.
    public var code: Code
    /// A short explanation without payloads or credentials.
    public var message: String
    /// The refusal, for ``Code/rejected``.
    public var reject: Reject?

    /// Creates an error.
    public init(_ code: Code, _ message: String, reject: Reject? = nil) {
        self.code = code
        self.message = message
        self.reject = reject
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
