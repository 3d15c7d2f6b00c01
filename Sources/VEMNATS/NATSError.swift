import CNats

/// The one error type of VEMNATS.
public struct NATSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error kind. Extensible.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name (`connect`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// No server of the list could be reached, or the server refused the credentials.
        public static let connect = Code(rawValue: "connect")
        /// A publish, subscribe or flush failed (closed connection, permissions, timeout).
        public static let io = Code(rawValue: "io")
        /// The server refused a publish or subscribe (the user's permissions do not allow the subject).
        public static let permissionViolation = Code(rawValue: "permission_violation")
        /// A name cannot be used in a subject (empty, or holds `.`, `*`, `>` or white space).
        public static let invalidSubjectToken = Code(rawValue: "invalid_subject_token")
        /// The input of `vem nats-config` is wrong (unknown file, bad line, duplicate Client).
        public static let invalidInput = Code(rawValue: "invalid_input")
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

    /// An error for a failed libnats call.
    init(_ code: Code, _ what: String, status: natsStatus) {
        self.init(code, "\(what): \(NATSError.text(of: status))")
    }

    /// libnats's text for a status.
    static func text(of status: natsStatus) -> String {
        guard let text = natsStatus_GetText(status) else { return "status \(status.rawValue)" }
        return String(cString: text)
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
