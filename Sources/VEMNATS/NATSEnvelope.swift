import VEMProtocol

/// The payload of every NATS message of the bus: which session of the sender it belongs to, then one or more
/// VEM frames (4-byte length and body, as on the hub).
///
/// ```
/// byte 0      flags (bit 0: a connection note follows)
/// bytes 1-8   session id, big-endian (0 on broadcasts: any session)
/// [note]      cid (8 bytes, big-endian), server id length (1 byte), server id (UTF-8)
/// frames      length (4 bytes, big-endian) + body, repeated
/// ```
///
/// A Client draws a new session id for every connection (after each libnats reconnect, or when the Manager asks
/// for a new `hello`); ids of one process only grow. The Manager drops messages of any session but the Client's
/// current one, so nothing from a closed connection is delivered once the next one is up. The connection note
/// (sent with `hello`) names the NATS server and the connection's `cid` there, which the Manager matches against
/// `$SYS` DISCONNECT events.
public struct NATSEnvelope: Hashable, Sendable {
    /// The server connection a session runs on (from the `hello`'s envelope).
    public struct ConnectionNote: Hashable, Sendable {
        /// The connection's id on its server (`client.id` in system events).
        public var cid: UInt64
        /// The server's id (`server.id` in system events).
        public var serverID: String
        /// Creates a note.
        public init(cid: UInt64, serverID: String) {
            self.cid = cid
            self.serverID = serverID
        }
    }

    /// The sender's session (0: addressed to any session).
    public var session: UInt64
    /// The connection note, if any.
    public var note: ConnectionNote?
    /// The messages, in order.
    public var messages: [Message]

    /// Creates an envelope.
    public init(session: UInt64, note: ConnectionNote? = nil, messages: [Message]) {
        self.session = session
        self.note = note
        self.messages = messages
    }

    /// The payload bytes.
    /// - Parameter maximumFrameSize: The largest frame body (messages over it are left out).
    /// - Returns: The payload, and how many messages were too large to send.
    public func encoded(maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize) -> (bytes: [UInt8], dropped: Int) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(note == nil ? 0 : 1)
        Self.appendUInt64(session, to: &bytes)
        if let note {
            Self.appendUInt64(note.cid, to: &bytes)
            let id = Array(note.serverID.utf8.prefix(255))
            bytes.append(UInt8(id.count))
            bytes.append(contentsOf: id)
        }
        var dropped = 0
        for message in messages {
            do throws(ProtocolError) {
                try message.encodeFrame(into: &bytes, maximumFrameSize: maximumFrameSize)
            } catch {
                dropped += 1
            }
        }
        return (bytes, dropped)
    }

    /// Decodes a payload.
    /// - Parameter payload: The NATS message's data.
    /// - Throws: ``ProtocolError`` when the header or any frame is malformed.
    public init(decoding payload: UnsafeRawBufferPointer, maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize)
        throws(ProtocolError)
    {
        let (envelope, error) = try Self.decodePrefix(payload, maximumFrameSize: maximumFrameSize)
        if let error { throw error }
        self = envelope
    }

    /// Decodes a payload as far as it is well-formed: the header (or an error), the frames before the first bad
    /// one, and that frame's error — so that a bad frame after good ones is handled like a bad frame on a TCP
    /// connection (the good ones count, then the session ends).
    /// - Throws: ``ProtocolError`` when the header itself is malformed.
    public static func decodePrefix(
        _ payload: UnsafeRawBufferPointer, maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize
    ) throws(ProtocolError) -> (NATSEnvelope, ProtocolError?) {
        guard payload.count >= 9 else {
            throw ProtocolError(.truncatedFrame, "envelope of \(payload.count) bytes is shorter than its header")
        }
        let flags = payload[0]
        let session = readUInt64(payload, at: 1)
        var offset = 9
        var note: ConnectionNote?
        if flags & 1 != 0 {
            guard payload.count >= offset + 9 else {
                throw ProtocolError(.truncatedFrame, "envelope ends inside its connection note")
            }
            let cid = readUInt64(payload, at: offset)
            let length = Int(payload[offset + 8])
            offset += 9
            guard payload.count >= offset + length else {
                throw ProtocolError(.truncatedFrame, "envelope ends inside its server id")
            }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: payload[offset..<offset + length]), as: UTF8.self)
            note = ConnectionNote(cid: cid, serverID: id)
            offset += length
        }
        var envelope = NATSEnvelope(session: session, note: note, messages: [])
        while offset < payload.count {
            do throws(ProtocolError) {
                let rest = UnsafeRawBufferPointer(rebasing: payload[offset...])
                guard let length = try WireFormat.peekBodyLength(rest, maximumFrameSize: maximumFrameSize),
                    rest.count >= WireFormat.lengthPrefixSize + length
                else {
                    throw ProtocolError(.truncatedFrame, "envelope ends inside a frame", offset: offset)
                }
                let start = offset + WireFormat.lengthPrefixSize
                envelope.messages.append(
                    try Message(decodingBody: UnsafeRawBufferPointer(rebasing: payload[start..<start + length])))
                offset = start + length
            } catch {
                return (envelope, error)
            }
        }
        return (envelope, nil)
    }

    static func appendUInt64(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func readUInt64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }
}
