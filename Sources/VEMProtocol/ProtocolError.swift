/// The one error type of VEMProtocol: what went wrong with a frame or a message, where, and why.
///
/// Every decoding failure is reported as a `ProtocolError`; nothing in this module traps on input.
/// A connection that produced a `ProtocolError` must be closed (the byte stream can no longer be trusted);
/// the reason to log is ``description``, which never contains payload bytes.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error kind. Extensible: new codes may be added in later versions.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name, as logged (`oversized_frame`).
        public var rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// A length prefix announced a frame larger than the configured maximum (detected before buffering it).
        public static let oversizedFrame = Code(rawValue: "oversized_frame")
        /// The stream ended (or a body ended) in the middle of a frame or field.
        public static let truncatedFrame = Code(rawValue: "truncated_frame")
        /// The body's protocol version byte is not one this build speaks.
        public static let unsupportedVersion = Code(rawValue: "unsupported_version")
        /// The body's `msg_type` byte names no known message.
        public static let unknownMessageType = Code(rawValue: "unknown_message_type")
        /// A field is not well formed (bad varint, bad tag, count too large, trailing bytes, …).
        public static let malformedField = Code(rawValue: "malformed_field")
        /// A string field is not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "invalid_utf8")
    }

    /// What kind of error this is.
    public var code: Code
    /// A short, lower-case explanation without payload bytes (`varint longer than 10 bytes`).
    public var message: String
    /// The byte offset inside the frame body where the problem was found, if known.
    public var offset: Int?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of error.
    ///   - message: A short explanation (never payload bytes or credentials).
    ///   - offset: The byte offset inside the frame body, if known.
    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// `code: message (at byte N)`.
    public var description: String {
        if let offset { return "\(code): \(message) (at byte \(offset))" }
        return "\(code): \(message)"
    }
}
