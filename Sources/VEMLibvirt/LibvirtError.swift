/// The one error type of the hypervisor driver.
///
/// Errors that libvirt reports keep libvirt's own message (``message``) and its numeric error code
/// (``libvirtCode``), so that an administrator sees exactly what libvirt said.
public struct LibvirtError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: add codes as the driver grows.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The code's stable, lower-case name (`connection_failed`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The connection to the hypervisor could not be opened (bad URI, nothing answering).
        public static let connectionFailed = Code(rawValue: "connection_failed")
        /// The connection was closed (by ``LibvirtConnection/close()``) or is no longer alive.
        public static let connectionClosed = Code(rawValue: "connection_closed")
        /// A libvirt call failed; ``LibvirtError/message`` is libvirt's message.
        public static let libvirt = Code(rawValue: "libvirt")
        /// No domain of that name (or UUID) exists.
        public static let domainNotFound = Code(rawValue: "domain_not_found")
        /// A domain of that name (or UUID) exists already.
        public static let domainExists = Code(rawValue: "domain_exists")
        /// A domain template is malformed (unterminated placeholder, not well-formed XML, no `<domain>` root).
        public static let malformedTemplate = Code(rawValue: "malformed_template")
        /// A domain template uses a placeholder the renderer does not know, or one without a value.
        public static let unknownPlaceholder = Code(rawValue: "unknown_placeholder")
        /// A value given to the driver is wrong (an empty name, a bad UUID, zero memory).
        public static let badArgument = Code(rawValue: "bad_argument")
        /// A live migration failed; the domain is still on the source when libvirt says so.
        public static let migrationFailed = Code(rawValue: "migration_failed")
        /// The operation is not supported by this hypervisor driver (libvirt's `VIR_ERR_NO_SUPPORT`).
        public static let unsupported = Code(rawValue: "unsupported")
        /// Work did not finish within its deadline.
        public static let timeout = Code(rawValue: "timeout")
        /// A domain's VEM metadata is present but cannot be read.
        public static let badMetadata = Code(rawValue: "bad_metadata")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable message: libvirt's own message for libvirt failures.
    public var message: String
    /// What the driver was doing (`define domain 'atlas-1'`), if known.
    public var operation: String?
    /// libvirt's `virErrorNumber`, for libvirt failures.
    public var libvirtCode: Int32?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong.
    ///   - operation: What the driver was doing.
    ///   - libvirtCode: libvirt's error number, if it came from libvirt.
    public init(_ code: Code, _ message: String, operation: String? = nil, libvirtCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
        self.libvirtCode = libvirtCode
    }

    /// `code: operation: message`.
    public var description: String {
        if let operation { return "\(code): \(operation): \(message)" }
        return "\(code): \(message)"
    }
}
